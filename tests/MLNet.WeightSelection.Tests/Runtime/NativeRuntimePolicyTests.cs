using System.Runtime.InteropServices;
using MLNet.WeightSelection.Runtime;
using MLNet.WeightSelection.Tests.Training;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Runtime;

/// <summary>The settings the library makes in the native runtime, read from the one place that makes them.</summary>
[Collection(nameof(GlobalTorchState))]
public class NativeRuntimePolicyTests
{
    [DllImport("libc", EntryPoint = "getenv")]
    static extern IntPtr NativeGetEnv(string name);

    [Fact]
    public void The_mmap_threshold_is_fixed_on_linux_unless_the_user_set_it_and_described()
    {
        bool userSet = Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null;
        bool glibc = OperatingSystem.IsLinux() && File.Exists("/lib/x86_64-linux-gnu/libc.so.6");
        if (glibc && !userSet) Assert.True(NativeHeapPolicy.Applied, "mallopt(M_MMAP_THRESHOLD) was not applied at load");
        if (!OperatingSystem.IsLinux() || userSet) Assert.False(NativeHeapPolicy.Applied);
        Assert.Contains(NativeRuntimePolicy.Describe(), line => line.StartsWith("glibc mmap threshold: ", StringComparison.Ordinal)
            && line.Contains(NativeHeapPolicy.Applied ? "8 MiB, free pages returned every 8 training steps (set by the library)" : userSet ? "MALLOC_MMAP_THRESHOLD_" : "own", StringComparison.Ordinal));
    }

    [Fact]
    public void The_isa_cap_is_described_as_what_the_process_has()
    {
        string isaLine = NativeRuntimePolicy.Describe().Single(l => l.StartsWith("oneDNN ISA: ", StringComparison.Ordinal));
        if (NativeRuntimePolicy.IsaCappedAtLoad)
        {
            Assert.Equal("AVX2", Marshal.PtrToStringAnsi(NativeGetEnv("ONEDNN_MAX_CPU_ISA"))); // the copy oneDNN reads
            Assert.Null(Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA")); // not passed on to child processes
            Assert.Contains("capped by the library", isaLine);
        }
        else if (Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") is { } isa)
        {
            Assert.Equal($"oneDNN ISA: {isa} (environment)", isaLine);
        }
    }

    [Fact]
    public void UseThreads_sets_the_count_and_restores_it_once()
    {
        int before = get_num_threads();
        int other = before == 1 ? 2 : 1;
        var scope = NativeRuntimePolicy.UseThreads(other);
        Assert.Equal(other, get_num_threads());
        Assert.Contains($"intra-op threads: {other}", NativeRuntimePolicy.Describe());
        scope.Dispose();
        Assert.Equal(before, get_num_threads());
        set_num_threads(other);
        scope.Dispose(); // a second dispose must not restore again
        Assert.Equal(other, get_num_threads());
        set_num_threads(before);
        using (NativeRuntimePolicy.UseThreads(before)) Assert.Equal(before, get_num_threads());
        Assert.Equal(before, get_num_threads());
    }
}

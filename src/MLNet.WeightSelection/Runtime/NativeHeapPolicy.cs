using System.Runtime.InteropServices;

namespace MLNet.WeightSelection.Runtime;

/// <summary>
/// Fixes glibc's mmap threshold at 1 MiB when the library loads on Linux. By default glibc raises the threshold to the
/// size of each large block freed (up to 32 MiB), after which libtorch's per-batch tensors come from the main heap,
/// which fragments and is not given back: the sample's <c>Fit</c> with teacher adaptation held 9–11 GB resident. With
/// the threshold fixed the same run peaked at 1.3 GB, in the same time (docs/results.md). A user's
/// <c>MALLOC_MMAP_THRESHOLD_</c> environment variable wins; other C libraries are left alone.
/// </summary>
internal static class NativeHeapPolicy
{
    const int MmapThresholdOption = -3; // glibc's M_MMAP_THRESHOLD
    const int ThresholdBytes = 1 << 20;
    const string Variable = "MALLOC_MMAP_THRESHOLD_";

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int MallOpt(int option, int value);

    /// <summary>True when the threshold was fixed at load; false when not on Linux, set by the user, or not glibc.</summary>
    public static bool Applied { get; private set; }

    /// <summary>At load (<see cref="NativeRuntimePolicy"/>): fixes the threshold unless the user set it.</summary>
    internal static void FixMmapThreshold()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(Variable) is not null) return;
        try
        {
            Applied = MallOpt(MmapThresholdOption, ThresholdBytes) == 1;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            // Not glibc (musl has no mallopt): its allocator does not have this behaviour.
        }
    }
}

using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.Training;

public class ConvolutionBackwardGuardTests
{
    [DllImport("libc", EntryPoint = "getenv")]
    static extern IntPtr GetEnv(string name);

    [Fact]
    public void ConvolutionGradientsMatchTheUnfoldReference()
    {
        // The library sets ONEDNN_MAX_CPU_ISA=AVX2 on AVX-512 CPUs when it loads; without that, oneDNN's
        // AVX-512 kernels fail this check on the project's machine (AMD EPYC, Zen 4).
        _ = new TrainingOptions();
        Assert.True(ConvolutionBackwardGuard.GradientsAreCorrect(out string detail), detail);
        Assert.False(ConvolutionBackwardGuard.OneDnnDisabled);
    }

    [Fact]
    public void TheIsaLimitReachesTheNativeEnvironmentOnAvx512Linux()
    {
        _ = new TrainingOptions(); // loads the library, whose module initializer sets the limit
        bool applies = OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64 && Avx512F.IsSupported
            && Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") is null && Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA") is null;
        string? native = OperatingSystem.IsLinux() ? Marshal.PtrToStringAnsi(GetEnv("ONEDNN_MAX_CPU_ISA")) : null;
        if (applies) Assert.Equal("AVX2", native);
        else Assert.Equal(Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA"), native);
    }
}

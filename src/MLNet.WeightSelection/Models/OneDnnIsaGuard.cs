using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace MLNet.WeightSelection.Models;

/// <summary>
/// Caps oneDNN (libtorch's CPU convolution backend) at AVX2 on AVX-512 machines, unless the user already chose an ISA
/// through <c>DNNL_MAX_CPU_ISA</c>. Measured with libtorch 2.10 (TorchSharp 0.107) on an AMD EPYC with AVX-512: the
/// AVX-512 backward-data kernel of small 3×3 convolutions (8 output channels, 4–16 px maps) returns NaN input
/// gradients in 10–50% of calls, so training a narrow ResNet or ConvNeXt diverges to NaN within a few steps; the AVX2
/// kernels are exact. oneDNN reads the variable when it first dispatches, so this runs before any model is built.
/// </summary>
internal static partial class OneDnnIsaGuard
{
    public const string Variable = "DNNL_MAX_CPU_ISA";
    static int _applied;

    /// <summary>True once the cap was set by this guard (false when not needed or the user chose an ISA).</summary>
    public static bool CappedByGuard { get; private set; }

    public static void Apply()
    {
        if (Interlocked.Exchange(ref _applied, 1) == 1) return;
        if (!Avx512F.IsSupported) return;
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 }) return;
        Environment.SetEnvironmentVariable(Variable, "AVX2");
        // On Unix, .NET keeps its own copy of the environment; native code reads the C library's.
        if (!OperatingSystem.IsWindows())
        {
            try { CappedByGuard = SetEnv(Variable, "AVX2", 0) == 0; }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { CappedByGuard = false; }
        }
        else CappedByGuard = true;
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}

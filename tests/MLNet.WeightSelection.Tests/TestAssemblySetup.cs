using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace MLNet.WeightSelection.Tests;

/// <summary>
/// Runs the library's module initializer before any test touches TorchSharp. It caps oneDNN at AVX2 on AVX-512 CPUs
/// (Training/ConvolutionBackwardGuard), and oneDNN reads that limit only once, at its first use: a test that used
/// TorchSharp directly (NativeRuntimeTests, say) before any library type loaded would leave oneDNN on the AVX-512
/// kernels whose convolution gradients are wrong, and later training tests would go NaN now and then.
/// </summary>
internal static class TestAssemblySetup
{
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "Must run before the first test, whichever it is.")]
    internal static void LoadLibraryFirst() =>
        RuntimeHelpers.RunModuleConstructor(typeof(global::MLNet.WeightSelection.Checkpoints.StateDict).Module.ModuleHandle);
}

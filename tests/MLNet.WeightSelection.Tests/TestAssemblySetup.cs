using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Xunit;

// Training turns libtorch's process-wide oneDNN switch on for each of its steps (Runtime/OneDnnConvolutions.cs), and
// oneDNN's eval-mode convolution forwards are wrong now and then: a model test evaluating on another thread during
// a training step would see that, so test classes run one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace MLNet.WeightSelection.Tests;

/// <summary>
/// Runs the library's module initializer before any test touches TorchSharp. It caps oneDNN at AVX2 on AVX-512 CPUs
/// (Runtime/OneDnnConvolutions.cs), and oneDNN reads that limit only once, at its first use: a test that used
/// TorchSharp directly (NativeRuntimeTests, say) before any library type loaded would leave oneDNN on the AVX-512
/// kernels whose convolution gradients are wrong, and training would then fall back to ATen's slower convolution.
/// </summary>
internal static class TestAssemblySetup
{
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "Must run before the first test, whichever it is.")]
    internal static void LoadLibraryFirst() =>
        RuntimeHelpers.RunModuleConstructor(typeof(global::MLNet.WeightSelection.Checkpoints.StateDict).Module.ModuleHandle);
}

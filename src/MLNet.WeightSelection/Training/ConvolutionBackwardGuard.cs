using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// Guards against a defect of the oneDNN build inside TorchSharp-cpu 0.107 (libtorch 2.10): on AVX-512 CPUs its
/// convolution backward-data kernels return wrong input gradients (even NaN) for narrow layers, e.g. 8 → 8 channels
/// 3×3 on 4×4 maps; its AVX2 kernels and ATen's own convolution are right. Measured on an AMD EPYC (Zen 4) with
/// 1 and 2 threads; PyTorch 1.13 gives the right values on the same machine.
/// <list type="bullet">
/// <item>When the library loads, on Linux x64 with AVX-512 and no ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA set, it sets
/// ONEDNN_MAX_CPU_ISA=AVX2 in the native environment, which oneDNN reads when it first runs. Set either variable
/// yourself to choose otherwise.</item>
/// <item>Before training, <see cref="EnsureCorrect"/> compares convolution input gradients with an unfold/matmul
/// reference. If they differ (oneDNN started before this library loaded, or another defect), oneDNN convolutions are
/// turned off (at::Context::setUserEnabledMkldnn(false)) and the check runs again; if still wrong, training refuses to start.</item>
/// </list>
/// </summary>
internal static class ConvolutionBackwardGuard
{
    const string IsaVariable = "ONEDNN_MAX_CPU_ISA";
    static readonly object Gate = new();
    static readonly HashSet<int> VerifiedThreadCounts = new();

    [DllImport("libc", EntryPoint = "setenv")]
    static extern int SetEnv(string name, string value, int overwrite);

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    static extern IntPtr GlobalContext();

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    /// <summary>True when this process turned oneDNN convolutions off because their gradients were wrong.</summary>
    public static bool OneDnnDisabled { get; private set; }

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "oneDNN reads its ISA limit once, at its first use; only a module initializer runs early enough.")]
    internal static void LimitOneDnnIsa()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64 || !Avx512F.IsSupported) return;
        if (Environment.GetEnvironmentVariable(IsaVariable) is not null || Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA") is not null) return;
        try
        {
            SetEnv(IsaVariable, "AVX2", 0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // No libc setenv: EnsureCorrect still catches wrong gradients before training.
        }
    }

    /// <summary>
    /// Checks convolution input gradients at the current thread count (once per count and process) and repairs or
    /// refuses as described on the class. <paramref name="log"/> hears about a repair.
    /// </summary>
    /// <exception cref="InvalidOperationException">Gradients are wrong and turning oneDNN off did not help.</exception>
    public static void EnsureCorrect(Action<string> log)
    {
        lock (Gate)
        {
            int threads = get_num_threads();
            if (VerifiedThreadCounts.Contains(threads)) return;
            if (GradientsAreCorrect(out string detail))
            {
                VerifiedThreadCounts.Add(threads);
                return;
            }
            string problem = $"Convolution input gradients from libtorch are wrong on this CPU ({detail}).";
            if (!OperatingSystem.IsLinux() || OneDnnDisabled)
                throw new InvalidOperationException($"{problem} Set {IsaVariable}=AVX2 in the environment before starting the process.");
            try
            {
                SetUserEnabledMkldnn(GlobalContext(), false);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                throw new InvalidOperationException($"{problem} Set {IsaVariable}=AVX2 in the environment before starting the process.", e);
            }
            OneDnnDisabled = true;
            if (!GradientsAreCorrect(out detail))
                throw new InvalidOperationException($"{problem} They are still wrong with oneDNN turned off ({detail}); training would not learn correctly.");
            VerifiedThreadCounts.Clear();
            VerifiedThreadCounts.Add(threads);
            log($"Warning: {problem} oneDNN convolutions are now off for this process (slower). Set {IsaVariable}=AVX2 before starting the process to keep them.");
        }
    }

    /// <summary>
    /// Compares autograd's input and weight gradients of two narrow convolutions with an unfold/matmul/fold reference,
    /// three times each: with several threads the defect shows only on some calls.
    /// </summary>
    internal static bool GradientsAreCorrect(out string detail)
    {
        var cases = new[] { (8, 8, 3, 1, 1, 4), (3, 8, 7, 2, 3, 16) };
        foreach (var (inChannels, outChannels, kernel, stride, padding, size) in cases.Concat(cases).Concat(cases))
        {
            double error = RelativeError(inChannels, outChannels, kernel, stride, padding, size);
            if (!(error < 1e-3))
            {
                detail = $"{inChannels}→{outChannels} channels, {kernel}×{kernel} stride {stride} on {size}×{size}: relative error {error:G3}";
                return false;
            }
        }
        detail = "";
        return true;
    }

    static double RelativeError(int inChannels, int outChannels, int kernel, int stride, int padding, int size)
    {
        using var scope = NewDisposeScope();
        using var enableGrad = enable_grad();
        const int batch = 16;
        // Smooth deterministic values: the check must not touch any random generator.
        var x = arange(batch * inChannels * size * size).to_type(ScalarType.Float32).mul(0.37).sin()
            .reshape(batch, inChannels, size, size).requires_grad_(true);
        var w = arange(outChannels * inChannels * kernel * kernel).to_type(ScalarType.Float32).mul(0.11).cos().mul(0.2)
            .reshape(outChannels, inChannels, kernel, kernel).requires_grad_(true);
        var y = nn.functional.conv2d(x, w, strides: new long[] { stride, stride }, padding: new long[] { padding, padding });
        y.pow(2).sum().backward();

        // d(sum y²)/dy = 2y; through the im2col form y = W · cols(x): dW = 2y · colsᵀ, dcols = Wᵀ · 2y, dx = fold(dcols).
        var upstream = y.detach().mul(2).reshape(batch, outChannels, -1);
        var columns = nn.functional.unfold(x.detach(), kernel, padding: padding, stride: stride);
        var flatWeight = w.detach().reshape(outChannels, -1);
        var expectedInput = nn.functional.fold(flatWeight.t().matmul(upstream), size, kernel, padding: padding, stride: stride);
        var expectedWeight = upstream.matmul(columns.transpose(1, 2)).sum(new long[] { 0 }).reshape(w.shape);
        double inputError = x.grad!.sub(expectedInput).abs().max().item<float>() / Math.Max(1e-12, expectedInput.abs().max().item<float>());
        double weightError = w.grad!.sub(expectedWeight).abs().max().item<float>() / Math.Max(1e-12, expectedWeight.abs().max().item<float>());
        return double.IsNaN(inputError) || double.IsNaN(weightError) ? double.NaN : Math.Max(inputError, weightError);
    }
}

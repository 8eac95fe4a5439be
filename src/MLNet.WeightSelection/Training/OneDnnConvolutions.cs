using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// Works around defects of the oneDNN build inside TorchSharp-cpu 0.107 (libtorch 2.10), measured on the project's
/// AMD EPYC (Zen 4) machine with 1 and 2 threads, where PyTorch 1.13 and ATen's own convolution give right values:
/// <list type="bullet">
/// <item>AVX-512 kernels: wrong input gradients (even NaN) from convolution backward for narrow layers, e.g. 8 → 8
/// channels 3×3 on 4×4 maps, or a 3-channel 7×7 stride-2 stem.</item>
/// <item>AVX2 kernels: after a training step (forward and backward), a convolution forward of another model in
/// eval mode under no_grad (the teacher, or validation) sometimes returns NaN (about 1 call in 20 with 2 threads).</item>
/// </list>
/// So: when the library loads, on Linux x64 with AVX-512 and no ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA set, oneDNN is
/// capped at AVX2 (it reads the variable at its first use), which fixes gradients for code that trains outside the
/// trainer. Training itself turns oneDNN convolutions off for the process (at::Context::setUserEnabledMkldnn(false):
/// ATen's native convolution, about a quarter slower here) unless
/// <see cref="ImageClassifierTrainer.UseOneDnnConvolutions"/> is set; either way it then checks convolution gradients
/// against an unfold/matmul reference and refuses to train when they are wrong.
/// </summary>
internal static class OneDnnConvolutions
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

    [DllImport("libtorch_cpu", EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    static extern bool UserEnabledMkldnn(IntPtr context);

    /// <summary>Whether libtorch currently uses oneDNN for convolutions; null when that cannot be asked (not Linux, or no libtorch).</summary>
    public static bool? Enabled
    {
        get
        {
            if (!OperatingSystem.IsLinux()) return null;
            try { return UserEnabledMkldnn(GlobalContext()); }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return null; }
        }
    }

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
            // No libc setenv: Configure still checks gradients before training.
        }
    }

    /// <summary>
    /// Before CPU training: turns oneDNN convolutions off (or on, when <paramref name="useOneDnn"/>), then checks
    /// convolution gradients at the current thread count; wrong gradients with oneDNN on turn it off and are checked again.
    /// </summary>
    /// <exception cref="InvalidOperationException">Gradients are wrong and oneDNN cannot be turned off, or are wrong without it.</exception>
    public static void Configure(bool useOneDnn, Action<string> log)
    {
        lock (Gate)
        {
            bool? before = Enabled;
            if (before is { } enabled && enabled != useOneDnn)
            {
                SetUserEnabledMkldnn(GlobalContext(), useOneDnn);
                VerifiedThreadCounts.Clear();
                if (!useOneDnn) log("oneDNN convolutions are off for this process: this libtorch build's oneDNN kernels give wrong gradients or NaN on some CPUs (set ImageClassifierTrainer.UseOneDnnConvolutions to use them).");
            }
            int threads = get_num_threads();
            if (VerifiedThreadCounts.Contains(threads)) return;
            if (GradientsAreCorrect(out string detail))
            {
                VerifiedThreadCounts.Add(threads);
                return;
            }
            string problem = $"Convolution input gradients from libtorch are wrong on this CPU ({detail}).";
            if (Enabled != true)
                throw new InvalidOperationException($"{problem} Training would not learn correctly. Set {IsaVariable}=AVX2 in the environment before starting the process, or train on another device.");
            SetUserEnabledMkldnn(GlobalContext(), false);
            if (!GradientsAreCorrect(out detail))
                throw new InvalidOperationException($"{problem} They are still wrong with oneDNN turned off ({detail}); training would not learn correctly.");
            VerifiedThreadCounts.Clear();
            VerifiedThreadCounts.Add(threads);
            log($"Warning: {problem} oneDNN convolutions are now off for this process.");
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

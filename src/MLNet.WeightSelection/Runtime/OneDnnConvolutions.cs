using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;


namespace MLNet.WeightSelection.Runtime;

/// <summary>
/// Works around defects of the oneDNN build inside TorchSharp-cpu 0.107 (libtorch 2.10), measured on the project's
/// AMD EPYC (Zen 4) machine with 1 and 2 threads, where PyTorch 1.13 and ATen's own convolution give right values:
/// <list type="bullet">
/// <item>AVX-512 kernels: wrong input gradients (even NaN) from convolution backward for narrow layers, e.g. 8 → 8
/// channels 3×3 on 4×4 maps, or a 3-channel 7×7 stride-2 stem.</item>
/// <item>AVX2 kernels: after a training step (forward and backward), a convolution forward of another model in
/// eval mode under no_grad (the teacher, or validation) differs from ATen's by up to 0.04 and sometimes returns NaN
/// (about 1 call in 30 with 2 threads; <c>bench/bench.sh check-onednn</c>). Their training-mode forward matches ATen's
/// (within 2e-7) and their gradients pass the check below.</item>
/// </list>
/// So: when the library loads, on Linux x64 with AVX-512 and no ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA set, oneDNN is
/// capped at AVX2 (it reads the variable at its first use). Training makes ATen's native convolution the process
/// default (at::Context::setUserEnabledMkldnn(false)), so every eval-mode forward uses it, and turns oneDNN on only
/// around each training step (<see cref="ForTrainingStep"/>) when <c>ImageClassifierTrainer.UseOneDnnConvolutions</c>
/// is set (the default) and oneDNN's convolution gradients match an unfold/matmul reference at the training thread
/// count. oneDNN makes a training step 2–3.4× faster than ATen here (ResNet, ConvNeXt) (bench/results/throughput.md).
/// </summary>
internal static class OneDnnConvolutions
{
    const string IsaVariable = "ONEDNN_MAX_CPU_ISA";
    static readonly object Gate = new();
    // Thread counts at which gradients were checked: ATen's (right), and oneDNN's (right or not).
    static readonly HashSet<int> VerifiedAten = new();
    static readonly Dictionary<int, bool> VerifiedOneDnn = new();

    [DllImport("libc", EntryPoint = "setenv")]
    static extern int SetEnv(string name, string value, int overwrite);

    [DllImport("libc", EntryPoint = "getenv")]
    static extern IntPtr GetEnv(string name);

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    static extern IntPtr GlobalContext();

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport("libtorch_cpu", EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    static extern bool UserEnabledMkldnn(IntPtr context);

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    static extern void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport("libtorch_cpu", EntryPoint = "_ZNK2at7Context17userEnabledNNPACKEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    static extern bool UserEnabledNnpack(IntPtr context);

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at4_ops17_nnpack_available4callEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    static extern bool NnpackAvailable();

    /// <summary>
    /// The ISA limit oneDNN sees: the C library's ONEDNN_MAX_CPU_ISA (or DNNL_MAX_CPU_ISA), which the cap sets and
    /// .NET's <see cref="Environment"/> does not show. Falls back to .NET's copy where libc cannot be called.
    /// </summary>
    internal static string? IsaLimit()
    {
        try
        {
            if (OperatingSystem.IsLinux())
                return Marshal.PtrToStringAnsi(GetEnv(IsaVariable)) ?? Marshal.PtrToStringAnsi(GetEnv("DNNL_MAX_CPU_ISA"));
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        return Environment.GetEnvironmentVariable(IsaVariable) ?? Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA");
    }

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

    /// <summary>At load (<see cref="NativeRuntimePolicy"/>): caps oneDNN at AVX2 on AVX-512 CPUs unless the user chose an ISA.</summary>
    internal static bool LimitOneDnnIsa()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64 || !Avx512F.IsSupported) return false;
        if (Environment.GetEnvironmentVariable(IsaVariable) is not null || Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA") is not null) return false;
        try
        {
            // Only in the C library's environment, which oneDNN reads. .NET keeps its own copy, which child processes
            // get, so a PyTorch started from this process keeps its own choice.
            return SetEnv(IsaVariable, "AVX2", 0) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // No libc setenv: Configure still checks gradients before training.
            return false;
        }
    }

    /// <summary>
    /// Before CPU training: makes ATen's convolution the process default (every eval-mode forward uses it), checks its
    /// gradients at the current thread count and, when <paramref name="useOneDnn"/>, checks oneDNN's too.
    /// </summary>
    /// <returns>Whether training steps may use oneDNN (<see cref="ForTrainingStep"/>): asked for, and its gradients are right.</returns>
    /// <exception cref="InvalidOperationException">ATen's convolution gradients are wrong too: training would not learn.</exception>
    public static bool Configure(bool useOneDnn, Action<string> log)
    {
        lock (Gate)
        {
            bool? enabled = Enabled; // null: not Linux, or another libtorch; nothing to switch, but still check
            if (enabled == true)
            {
                SetUserEnabledMkldnn(GlobalContext(), false);
                DisableUnusableNnpack();
            }
            int threads = get_num_threads();
            if (!VerifiedAten.Contains(threads))
            {
                if (!GradientsAreCorrect(out string atenDetail))
                    throw new InvalidOperationException(enabled is null
                        ? $"Convolution gradients from libtorch are wrong on this CPU ({atenDetail}); training would not learn correctly. Set {IsaVariable}=AVX2 in the environment before starting the process, or train on another device."
                        : $"Convolution gradients from libtorch are wrong on this CPU ({atenDetail}), even without oneDNN; training would not learn correctly. Train on another device.");
                VerifiedAten.Add(threads);
            }
            if (!useOneDnn || enabled is null) return false;
            if (VerifiedOneDnn.TryGetValue(threads, out bool known)) return known;
            bool right;
            string detail;
            SetUserEnabledMkldnn(GlobalContext(), true);
            try { right = GradientsAreCorrect(out detail); }
            finally { SetUserEnabledMkldnn(GlobalContext(), false); }
            VerifiedOneDnn[threads] = right;
            if (!right)
                log($"Warning: oneDNN convolution gradients are wrong on this CPU ({detail}); training uses ATen's convolution instead (slower). Set {IsaVariable}=AVX2 before the process starts to try oneDNN's AVX2 kernels.");
            return right;
        }
    }

    /// <summary>
    /// Turns oneDNN convolutions on for one training step (train-mode forward, backward, update) when
    /// <paramref name="allowed"/>, and back off when disposed. Its training-mode results match ATen's; its eval-mode
    /// forwards after a training step do not (see the type's remarks), so those stay outside.
    /// </summary>
    internal static IDisposable ForTrainingStep(bool allowed) => allowed ? Switch(true) : NoChange.Instance;

    /// <summary>
    /// Turns oneDNN convolutions off until disposed (the eval-mode teacher forward inside a training step), then
    /// restores the previous setting.
    /// </summary>
    internal static IDisposable Suspend() => Switch(false);

    static IDisposable Switch(bool enabled)
    {
        if (Enabled is not { } before || before == enabled) return NoChange.Instance;
        SetUserEnabledMkldnn(GlobalContext(), enabled);
        return new Restore(before);
    }

    sealed class Restore(bool previous) : IDisposable
    {
        int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) SetUserEnabledMkldnn(GlobalContext(), previous);
        }
    }

    sealed class NoChange : IDisposable
    {
        public static readonly NoChange Instance = new();

        public void Dispose() { }
    }

    // Without oneDNN, ATen's convolution asks NNPACK first for every batch of 16 or more; where NNPACK cannot
    // start (e.g. AMD Zen 4 here), each call prints "Could not initialize NNPACK! Reason: Unsupported hardware."
    // Asking once (one such line) and turning it off keeps the log readable and changes no result.
    static void DisableUnusableNnpack()
    {
        try
        {
            if (UserEnabledNnpack(GlobalContext()) && !NnpackAvailable()) SetUserEnabledNnpack(GlobalContext(), false);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Another libtorch build: it keeps its own NNPACK behaviour.
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

using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Runtime;

/// <summary>
/// Every setting the library makes in the native runtime, and the one place to read them. Each works around a defect
/// or a cost measured on this project's machines (docs/troubleshooting.md):
/// <list type="bullet">
/// <item>At load: glibc's mmap threshold fixed at 8 MiB, with the heap's free pages returned every 8 training steps
/// (<see cref="NativeHeapPolicy"/>: without it libtorch's per-batch tensors fragment the main heap, 11 GB resident
/// for the sample), and oneDNN capped at AVX2 on AVX-512
/// CPUs (<see cref="OneDnnConvolutions"/>: its AVX-512 convolution gradients are wrong). A user's own environment
/// variable wins over either.</item>
/// <item>Around training: the thread count (<see cref="UseThreads"/>), ATen's convolution as the process default with
/// oneDNN only inside training steps whose gradients were checked (<see cref="ConfigureConvolutions"/>,
/// <see cref="OneDnnForTrainingStep"/>, <see cref="AtenConvolutions"/>), and NNPACK off where it cannot start.</item>
/// </list>
/// </summary>
internal static class NativeRuntimePolicy
{
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "glibc must get its threshold before libtorch's first tensor, and oneDNN reads its ISA limit once, at its first use: only a module initializer runs early enough.")]
    internal static void ApplyAtLoad()
    {
        NativeHeapPolicy.FixMmapThreshold();
        IsaCappedAtLoad = OneDnnConvolutions.LimitOneDnnIsa();
    }

    /// <summary>True when the library capped oneDNN's ISA at AVX2 when it loaded.</summary>
    public static bool IsaCappedAtLoad { get; private set; }

    /// <summary>
    /// Sets libtorch's intra-op thread count until disposed, then restores it. Only a count that really differs is
    /// set: libtorch's <c>set_num_threads</c> also clears oneDNN's primitive cache, which other threads may be using.
    /// </summary>
    public static IDisposable UseThreads(int threads)
    {
        int previous = get_num_threads();
        if (threads == previous) return Scope.None;
        set_num_threads(threads);
        return new Scope(() => set_num_threads(previous));
    }

    /// <summary>Before CPU training: ATen's convolution as the default, gradients checked; whether steps may use oneDNN.</summary>
    public static bool ConfigureConvolutions(bool useOneDnn, Action<string> log) => OneDnnConvolutions.Configure(useOneDnn, log);

    /// <summary>oneDNN's convolutions for one training step when <paramref name="allowed"/>, until disposed.</summary>
    public static IDisposable OneDnnForTrainingStep(bool allowed) => OneDnnConvolutions.ForTrainingStep(allowed);

    /// <summary>ATen's convolutions until disposed: every eval-mode forward (validation, a teacher, scoring).</summary>
    public static IDisposable AtenConvolutions() => OneDnnConvolutions.Suspend();

    /// <summary>Returns the free pages of glibc's heaps to the system (the trainer calls it every 8 steps).</summary>
    public static void ReleaseFreeMemory() => NativeHeapPolicy.ReleaseFreePages();

    /// <summary>What the policy has set in this process, one line per setting.</summary>
    public static IReadOnlyList<string> Describe()
    {
        string? isa = OneDnnConvolutions.IsaLimit();
        string? threshold = Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_");
        return new[]
        {
            NativeHeapPolicy.Applied ? "glibc mmap threshold: 8 MiB, free pages returned every 8 training steps (set by the library)"
                : threshold is not null ? $"glibc mmap threshold: {threshold} (MALLOC_MMAP_THRESHOLD_)" : "glibc mmap threshold: the C library's own",
            IsaCappedAtLoad ? "oneDNN ISA: AVX2 (capped by the library on this AVX-512 CPU)"
                : isa is not null ? $"oneDNN ISA: {isa} (environment)" : "oneDNN ISA: oneDNN's own choice",
            OneDnnConvolutions.Enabled switch
            {
                true => "convolutions: oneDNN (process default)",
                false => "convolutions: ATen (process default; oneDNN only inside checked training steps)",
                null => "convolutions: libtorch's own choice (not switchable here)",
            },
            $"intra-op threads: {get_num_threads()}",
        };
    }

    sealed class Scope(Action? restore) : IDisposable
    {
        public static readonly Scope None = new(null);
        Action? _restore = restore;

        public void Dispose() => Interlocked.Exchange(ref _restore, null)?.Invoke();
    }
}

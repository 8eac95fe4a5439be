using System.Runtime.InteropServices;

namespace MLNet.WeightSelection.Runtime;

/// <summary>
/// Keeps glibc's heap from growing without bound under libtorch, at little cost in speed. By default glibc raises its
/// mmap threshold to the size of each large block freed (up to 32 MiB), after which libtorch's per-batch tensors come
/// from the heap, which fragments and is not given back: the sample's <c>Fit</c> with teacher adaptation held 9–11 GB.
/// So when the library loads on Linux it fixes the threshold at 8 MiB, and the trainer returns the heap's free pages
/// every 8 steps (<c>malloc_trim(0)</c>, <see cref="ReleaseFreePages"/>). Measured on the sample (docs/results.md): 1.32 GB
/// peak and 3:08 wall, against 11.45 GB with a 16 MiB threshold and no trimming, and 1.29 GB but 3:58 with a 1 MiB
/// threshold (every tensor over 1 MiB page-faulted afresh; ViT training ran at half speed). A user's
/// <c>MALLOC_MMAP_THRESHOLD_</c> environment variable wins (then nothing is fixed or trimmed); other C libraries are
/// left alone.
/// </summary>
internal static class NativeHeapPolicy
{
    const int MmapThresholdOption = -3; // glibc's M_MMAP_THRESHOLD
    internal const int ThresholdBytes = 8 << 20;
    const string Variable = "MALLOC_MMAP_THRESHOLD_";

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int MallOpt(int option, int value);

    [DllImport("libc", EntryPoint = "malloc_trim")]
    static extern int MallocTrim(nuint pad);

    /// <summary>
    /// Gives the free pages inside glibc's heaps back to the system (<c>malloc_trim(0)</c>), when the threshold was
    /// fixed at load; the trainer calls it every few dozen steps so that fragmentation cannot accumulate.
    /// </summary>
    public static void ReleaseFreePages()
    {
        if (!Applied) return;
        try { MallocTrim(0); }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { Applied = false; }
    }

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

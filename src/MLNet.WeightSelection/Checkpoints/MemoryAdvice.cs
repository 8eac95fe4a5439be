using System.Runtime.InteropServices;

namespace MLNet.WeightSelection.Checkpoints;

/// <summary>
/// Access-pattern hints for memory-mapped files (POSIX <c>madvise</c>). Hints only: reads are correct without them,
/// so failures and other platforms are ignored.
/// </summary>
internal static partial class MemoryAdvice
{
    const int AdviseRandom = 1, AdviseWillNeed = 3, AdviseDontNeed = 4; // same values on Linux and macOS
    const int AdviseHugePage = 14; // Linux only

    static readonly long PageSize = Environment.SystemPageSize;

    /// <summary>
    /// Marks a mapping as randomly accessed, so a page fault on a cold cache reads only around the touched page
    /// instead of the disk's read-ahead window (megabytes) around every selected row. True when the hint was taken.
    /// </summary>
    public static unsafe bool RandomAccess(byte* start, long length) => Advise(start, length, AdviseRandom);

    /// <summary>Asks the kernel to read a range ahead of a sequential copy (a whole tensor). True when the hint was taken.</summary>
    public static unsafe bool WillNeed(byte* start, long length) => Advise(start, length, AdviseWillNeed);

    /// <summary>
    /// Drops a range's pages from this process's mapping once they have been copied out. The pages are clean and
    /// file-backed, so they stay in the page cache and a later read faults them back in; without this, every page a
    /// selection touched would stay resident and count against the process (a 1.2 GB teacher would pay its size
    /// in RSS even though the student needs a fraction). True when the hint was taken.
    /// </summary>
    public static unsafe bool Release(byte* start, long length) => Advise(start, length, AdviseDontNeed);

    /// <summary>
    /// Asks Linux to back a large, freshly allocated, not yet written buffer with transparent huge pages (where the
    /// system allows them on request), so filling it takes one page fault per 2 MiB instead of one per 4 KiB.
    /// True when the hint was taken.
    /// </summary>
    public static unsafe bool HugePages(byte* start, long length) =>
        OperatingSystem.IsLinux() && length >= 4L << 20 && Advise(start, length, AdviseHugePage);

    static unsafe bool Advise(byte* start, long length, int advice)
    {
        if (length <= 0 || !(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())) return false;
        // madvise needs a page-aligned start.
        long misalignment = (long)start % PageSize;
        var address = (IntPtr)(start - misalignment);
        var size = (nuint)(length + misalignment);
        try
        {
            return (OperatingSystem.IsLinux() ? LinuxMadvise(address, size, advice) : MacMadvise(address, size, advice)) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "madvise")]
    private static partial int LinuxMadvise(IntPtr address, nuint length, int advice);

    [LibraryImport("libSystem.dylib", EntryPoint = "madvise")]
    private static partial int MacMadvise(IntPtr address, nuint length, int advice);
}

namespace MLNet.WeightSelection.Tests.Selection;

/// <summary>Linux process memory from /proc/self/status, in bytes.</summary>
public readonly record struct MemoryStatus(long Peak, long Resident, long Anonymous, long FileBacked)
{
    public static bool Available => File.Exists("/proc/self/status") && File.Exists("/proc/self/clear_refs");

    public static MemoryStatus Read()
    {
        long peak = 0, rss = 0, anon = 0, file = 0;
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:")) peak = Kilobytes(line);
            else if (line.StartsWith("VmRSS:")) rss = Kilobytes(line);
            else if (line.StartsWith("RssAnon:")) anon = Kilobytes(line);
            else if (line.StartsWith("RssFile:")) file = Kilobytes(line);
        }
        return new MemoryStatus(peak, rss, anon, file);
    }

    /// <summary>Resets VmHWM to the current resident size (Linux ≥ 4.0).</summary>
    public static void ResetPeak() => File.WriteAllText("/proc/self/clear_refs", "5");

    static long Kilobytes(string line) => long.Parse(line.Split(':')[1].Trim().Split(' ')[0]) * 1024;
}

/// <summary>
/// Polls anonymous resident memory (RssAnon) on a background thread and keeps its maximum. The kernel keeps no
/// peak of anonymous memory alone, and VmHWM also counts the pages of a memory-mapped file that were read.
/// </summary>
public sealed class AnonymousPeakSampler : IDisposable
{
    readonly Thread _thread;
    volatile bool _stop;
    long _peak;

    public AnonymousPeakSampler()
    {
        _peak = MemoryStatus.Read().Anonymous;
        _thread = new Thread(() =>
        {
            while (!_stop)
            {
                long anon = MemoryStatus.Read().Anonymous;
                if (anon > Interlocked.Read(ref _peak)) Interlocked.Exchange(ref _peak, anon);
                Thread.Sleep(1);
            }
        }) { IsBackground = true, Name = "rss-anon sampler" };
        _thread.Start();
    }

    public long Peak => Interlocked.Read(ref _peak);

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
        long anon = MemoryStatus.Read().Anonymous;
        if (anon > _peak) _peak = anon;
    }
}

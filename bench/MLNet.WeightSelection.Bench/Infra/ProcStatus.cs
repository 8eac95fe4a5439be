using System.Globalization;

namespace MLNet.WeightSelection.Bench.Infra;

/// <summary>
/// Memory figures of a process from /proc/&lt;pid&gt;/status, in bytes. VmHWM is the kernel's peak resident set
/// (anonymous + file-backed + shared pages); RssAnon is private memory, RssFile the mapped file pages (for a
/// memory-mapped teacher: page-cache pages that the kernel can drop at any time without writing them anywhere).
/// </summary>
readonly record struct ProcMemory(long VmHwm, long VmRss, long RssAnon, long RssFile)
{
    public static ProcMemory? Read(int pid) => Parse($"/proc/{pid}/status");

    public static ProcMemory Self() => Parse("/proc/self/status") ?? default;

    static ProcMemory? Parse(string path)
    {
        string[] lines;
        try { lines = File.ReadAllLines(path); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        long Get(string name)
        {
            var line = lines.FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.Ordinal));
            if (line is null) return 0;
            var parts = line.Split(' ', '\t').Where(p => p.Length > 0).ToArray();
            return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024; // the kernel reports kB
        }
        return new ProcMemory(Get("VmHWM"), Get("VmRSS"), Get("RssAnon"), Get("RssFile"));
    }
}

using System.Globalization;
using System.Runtime.InteropServices;

namespace MLNet.WeightSelection.Bench.Infra;

/// <summary>What a figure was measured on: cores, CPU, memory, runtime, and how busy the machine was.</summary>
sealed record MachineInfo(int LogicalCores, string Cpu, double MemoryGiB, string Os, string Runtime, double[] LoadAverage)
{
    public static MachineInfo Current() => new(
        Environment.ProcessorCount,
        CpuModel(),
        Math.Round(MemTotalKiB() / 1024.0 / 1024.0, 1),
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription,
        LoadAverageNow());

    /// <summary>The 1-, 5- and 15-minute load averages from /proc/loadavg (runnable tasks competing for the cores).</summary>
    public static double[] LoadAverageNow()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return parts.Take(3).Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (IOException) { return Array.Empty<double>(); }
        catch (UnauthorizedAccessException) { return Array.Empty<double>(); }
    }

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{LogicalCores} logical cores ({Cpu}), {MemoryGiB} GiB, {Runtime}, load average {string.Join(" / ", LoadAverage.Select(l => l.ToString("F1", CultureInfo.InvariantCulture)))} at start");

    static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? RuntimeInformation.ProcessArchitecture.ToString() : line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { return RuntimeInformation.ProcessArchitecture.ToString(); }
    }

    static long MemTotalKiB()
    {
        try
        {
            var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException) { return 0; }
    }
}

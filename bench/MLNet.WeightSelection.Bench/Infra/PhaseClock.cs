using System.Diagnostics;

namespace MLNet.WeightSelection.Bench.Infra;

/// <summary>
/// Wall time and this process's CPU time (user + system, all threads) per phase. On a shared machine the wall time
/// includes waiting for a core; the CPU time does not, so both are reported.
/// </summary>
sealed class PhaseClock
{
    readonly Stopwatch _wall = Stopwatch.StartNew();
    readonly Stopwatch _total = Stopwatch.StartNew();
    TimeSpan _cpu = Cpu();
    readonly TimeSpan _cpuStart = Cpu();

    public Dictionary<string, double> Wall { get; } = new();
    public Dictionary<string, double> CpuSeconds { get; } = new();

    public void Lap(string phase)
    {
        var cpu = Cpu();
        Wall[phase] = _wall.Elapsed.TotalSeconds;
        CpuSeconds[phase] = (cpu - _cpu).TotalSeconds;
        _wall.Restart();
        _cpu = cpu;
    }

    public double TotalWallSeconds => _total.Elapsed.TotalSeconds;

    public double TotalCpuSeconds => (Cpu() - _cpuStart).TotalSeconds;

    /// <summary>CPU time of the whole process since it started (includes runtime start-up).</summary>
    public static double ProcessCpuSeconds() => Cpu().TotalSeconds;

    static TimeSpan Cpu()
    {
        using var p = Process.GetCurrentProcess();
        return p.TotalProcessorTime;
    }
}

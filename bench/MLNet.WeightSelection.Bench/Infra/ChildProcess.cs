using System.Diagnostics;
using System.Text.Json;

namespace MLNet.WeightSelection.Bench.Infra;

/// <summary>The outcome of one measured child process.</summary>
/// <param name="WallSeconds">From start to exit, as the parent saw it (includes runtime start-up).</param>
/// <param name="SampledPeak">Highest VmRSS / RssAnon / RssFile the parent saw while polling /proc every few ms.</param>
/// <param name="Result">The child's last line starting with <c>RESULT </c>, parsed as JSON.</param>
sealed record ChildRun(double WallSeconds, ProcMemory SampledPeak, JsonElement Result);

/// <summary>The outcome of a measured child whose output is not read (a CLI printing a table).</summary>
/// <param name="WallSeconds">From start to exit, as the parent saw it (includes runtime start-up).</param>
/// <param name="SampledPeak">Highest VmHWM / VmRSS / RssAnon / RssFile the parent saw while polling /proc every few ms.</param>
/// <param name="OutputChars">Characters the child wrote to standard output.</param>
sealed record QuietRun(double WallSeconds, ProcMemory SampledPeak, long OutputChars);

/// <summary>
/// Runs a command as a child process and measures it from outside: wall time, and memory polled from
/// /proc/&lt;pid&gt;/status. The child reports its own VmHWM (the kernel's exact peak) in its RESULT line, because the
/// /proc entry is gone once it has exited.
/// </summary>
static class ChildProcess
{
    public const string ResultPrefix = "RESULT ";

    /// <summary>This benchmark's own executable, to run one of its commands as a child.</summary>
    public static (string File, string[] Prefix) Self()
    {
        var path = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot tell this process's executable.");
        return Path.GetFileNameWithoutExtension(path) == "dotnet"
            ? (path, new[] { typeof(ChildProcess).Assembly.Location })
            : (path, Array.Empty<string>());
    }

    public static ChildRun RunSelf(params string[] args)
    {
        var (file, prefix) = Self();
        return Run(file, prefix.Concat(args).ToArray());
    }

    public static ChildRun Run(string file, string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Repo.Root,
        };
        foreach (var a in args) info.ArgumentList.Add(a);
        if (environment is not null) foreach (var (k, v) in environment) info.Environment[k] = v;

        string? result = null;
        var stderr = new List<string>();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            if (e.Data.StartsWith(ResultPrefix, StringComparison.Ordinal)) result = e.Data[ResultPrefix.Length..];
            else Console.Error.WriteLine("    | " + e.Data);
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.Add(e.Data); };
        var clock = Stopwatch.StartNew();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var peak = WaitSamplingMemory(process);
        double seconds = clock.Elapsed.TotalSeconds;
        if (process.ExitCode != 0 || result is null)
            throw new InvalidOperationException(
                $"'{file} {string.Join(' ', args)}' failed (exit code {process.ExitCode}{(result is null ? ", no RESULT line" : "")}):\n{string.Join('\n', stderr.TakeLast(30))}");
        return new ChildRun(seconds, peak, JsonDocument.Parse(result).RootElement.Clone());
    }

    /// <summary>
    /// Runs a command that reports nothing itself (<c>ws inspect</c>), counting and discarding its standard output, and
    /// measures it from outside. VmHWM is the kernel's peak, but read by polling: growth in the last few ms before exit
    /// can be missed.
    /// </summary>
    public static QuietRun RunQuiet(string file, string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Repo.Root };
        foreach (var a in args) info.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {file}.");
        var stderr = process.StandardError.ReadToEndAsync();
        var output = Task.Run(() =>
        {
            var buffer = new char[1 << 16];
            long total = 0;
            int n;
            while ((n = process.StandardOutput.Read(buffer, 0, buffer.Length)) > 0) total += n;
            return total;
        });
        var peak = WaitSamplingMemory(process);
        double seconds = clock.Elapsed.TotalSeconds;
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"'{file} {string.Join(' ', args)}' failed (exit code {process.ExitCode}):\n{stderr.Result}");
        return new QuietRun(seconds, peak, output.Result);
    }

    /// <summary>Runs a command that prints one JSON object per line (bench/python/train_throughput.py) and returns them.</summary>
    public static List<JsonElement> RunJsonLines(string file, string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Repo.Root };
        foreach (var a in args) info.ArgumentList.Add(a);
        if (environment is not null) foreach (var (k, v) in environment) info.Environment[k] = v;
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {file}.");
        var stderr = process.StandardError.ReadToEndAsync();
        var lines = new List<JsonElement>();
        string? line;
        while ((line = process.StandardOutput.ReadLine()) is not null)
            if (line.TrimStart().StartsWith('{')) lines.Add(JsonDocument.Parse(line).RootElement.Clone());
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"'{file} {string.Join(' ', args)}' failed (exit code {process.ExitCode}):\n{stderr.Result}");
        return lines;
    }

    /// <summary>Writes the child's RESULT line: its measurements plus its own peak memory from /proc/self/status.</summary>
    public static void Report(Dictionary<string, object?> values)
    {
        var self = ProcMemory.Self();
        values["vm_hwm_bytes"] = self.VmHwm;
        values["rss_anon_bytes_at_exit"] = self.RssAnon;
        values["rss_file_bytes_at_exit"] = self.RssFile;
        Console.Out.Flush();
        Console.WriteLine(ResultPrefix + JsonSerializer.Serialize(values));
    }

    /// <summary>Waits for a child to exit, reading its memory from /proc every 5 ms; returns the largest value of each figure.</summary>
    static ProcMemory WaitSamplingMemory(Process process)
    {
        long rss = 0, anon = 0, fileBacked = 0, hwm = 0;
        while (!process.WaitForExit(5))
        {
            if (ProcMemory.Read(process.Id) is { } m)
            {
                rss = Math.Max(rss, m.VmRss);
                anon = Math.Max(anon, m.RssAnon);
                fileBacked = Math.Max(fileBacked, m.RssFile);
                hwm = Math.Max(hwm, m.VmHwm);
            }
        }
        process.WaitForExit();
        return new ProcMemory(hwm, rss, anon, fileBacked);
    }
}

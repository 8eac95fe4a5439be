using System.Globalization;
using System.Text;
using MLNet.WeightSelection.Bench.Infra;

namespace MLNet.WeightSelection.Bench.Header;

/// <summary>
/// Issue 12, item 7: the cost of opening a safetensors header. Three valid files whose header is near the format's
/// 100 MB cap (one huge metadata string, 10,000 long names, 1,000,000 tiny tensors) next to a normal checkpoint (a
/// random ViT-B/16, 346 MB with a 20 KB header), each opened in a child process: <c>ws inspect</c> as a user runs it,
/// and the library's open alone (with the bytes it allocates). The same runs with a baseline build (the code before
/// this change) are interleaved round by round, so both face the same machine load.
/// </summary>
static class HeaderBenchmark
{
    const string NormalModel = "vit_base_patch16_224";

    sealed record Measurement(string File, string Build, string Kind, int Round, double WallSeconds, double? OpenSeconds,
        long? AllocatedBytes, long VmHwmBytes, long PeakRssBytes, long? OutputChars);

    public static int Run(Args args, string[] raw)
    {
        int rounds = args.Int("rounds", 3);
        string ws = Path.GetFullPath(args.Get("ws", Path.Combine(Repo.Root, "src", "MLNet.WeightSelection.Cli", "bin", "Release", "net10.0", "ws.dll")));
        string? baselineWs = args.Optional("baseline-ws") is { } b ? Path.GetFullPath(b) : null;
        string baselineName = args.Get("baseline-name", "baseline");
        args.EnsureAllUsed();
        if (!File.Exists(ws)) throw new FileNotFoundException($"No ws at {ws}; build it first: dotnet build src/MLNet.WeightSelection.Cli -c Release.", ws);
        if (baselineWs is not null && !File.Exists(baselineWs)) throw new FileNotFoundException($"No baseline ws at {baselineWs}; bench/header-baseline.sh builds one.", baselineWs);

        var machine = MachineInfo.Current();
        var started = DateTime.UtcNow;
        Console.Error.WriteLine($"Header benchmark on {machine.Describe()}.");
        var files = PrepareFiles();
        var builds = new List<(string Name, string Ws, string Harness)> { ("this build", ws, typeof(HeaderBenchmark).Assembly.Location) };
        if (baselineWs is not null) builds.Add((baselineName, baselineWs, BaselineHarness(baselineWs)));

        var all = new List<Measurement>();
        for (int r = 1; r <= rounds; r++)
        {
            Console.Error.WriteLine($"Round {r} of {rounds} (load {string.Join(" / ", MachineInfo.LoadAverageNow())}) ...");
            foreach (var (label, path) in files)
            {
                foreach (var build in builds)
                {
                    var open = ChildProcess.Run("dotnet", new[] { build.Harness, "open-header", "--file", path });
                    var o = open.Result;
                    all.Add(Report(new Measurement(label, build.Name, "library open", r, open.WallSeconds,
                        o.GetProperty("phases").GetProperty("open").GetDouble(), o.GetProperty("open_allocated_bytes").GetInt64(),
                        o.GetProperty("vm_hwm_bytes").GetInt64(), open.SampledPeak.VmRss, null)));
                    var inspect = ChildProcess.RunQuiet("dotnet", new[] { build.Ws, "inspect", path });
                    all.Add(Report(new Measurement(label, build.Name, "ws inspect", r, inspect.WallSeconds, null, null,
                        inspect.SampledPeak.VmHwm, inspect.SampledPeak.VmRss, inspect.OutputChars)));
                }
            }
        }

        var headerBytes = files.ToDictionary(f => f.Label, f => HeaderLength(f.Path));
        var (rows, markdown) = Summarize(all, headerBytes, builds.Select(b => b.Name).ToList());
        var data = new Dictionary<string, object?>
        {
            ["files"] = files.Select(f => new { label = f.Label, path = Path.GetRelativePath(Repo.Root, f.Path), bytes = new FileInfo(f.Path).Length, header_bytes = headerBytes[f.Label] }),
            ["builds"] = builds.Select(b => new { name = b.Name, ws = b.Ws, harness = b.Harness }),
            ["rounds"] = rounds,
            ["measurements"] = all,
            ["summary"] = rows,
        };
        ResultFile.Write("safetensors_header", ResultFile.Command(raw), machine, started, data, markdown);
        return 0;
    }

    static List<(string Label, string Path)> PrepareFiles()
    {
        var files = new List<(string, string)>();
        string normal = Repo.Out("header", NormalModel + ".safetensors");
        if (!File.Exists(normal))
        {
            Console.Error.WriteLine($"Writing a random {NormalModel} to {normal} ...");
            ChildProcess.RunSelf("make-teacher", "--model", NormalModel, "--out", normal);
        }
        files.Add(($"normal: {NormalModel}", normal));
        foreach (var (label, name, make) in new (string, string, Action<string>)[]
        {
            ("99 MB metadata string", "metadata99.safetensors", HeaderFiles.BigMetadata),
            ("10,000 long names", "names99.safetensors", HeaderFiles.LongNames),
            ("1,000,000 tensors", "million.safetensors", HeaderFiles.MillionTensors),
        })
        {
            string path = Repo.Out("header", name);
            if (!File.Exists(path))
            {
                Console.Error.WriteLine($"Writing {path} ...");
                make(path);
            }
            files.Add((label, path));
        }
        return files;
    }

    /// <summary>
    /// This benchmark's own files with the baseline's MLNet.WeightSelection.dll in place of ours, as symbolic links in
    /// bench/out: the same harness (public API only) then measures the older library.
    /// </summary>
    static string BaselineHarness(string baselineWs)
    {
        string source = AppContext.BaseDirectory;
        string harness = Repo.Out("header", "harness-baseline");
        if (Directory.Exists(harness)) Directory.Delete(harness, recursive: true);
        Directory.CreateDirectory(harness);
        foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos())
        {
            if (entry.Name.StartsWith("MLNet.WeightSelection.", StringComparison.Ordinal) && !entry.Name.StartsWith("MLNet.WeightSelection.Bench", StringComparison.Ordinal)) continue;
            string target = Path.Combine(harness, entry.Name);
            if (entry.Name.StartsWith("MLNet.WeightSelection.Bench", StringComparison.Ordinal)) File.Copy(entry.FullName, target); // the host resolves the app's folder from it
            else if (entry is DirectoryInfo) Directory.CreateSymbolicLink(target, entry.FullName);
            else File.CreateSymbolicLink(target, entry.FullName);
        }
        string baselineDir = Path.GetDirectoryName(baselineWs)!;
        foreach (var library in Directory.EnumerateFiles(baselineDir, "MLNet.WeightSelection.*"))
            File.Copy(library, Path.Combine(harness, Path.GetFileName(library)));
        return Path.Combine(harness, "MLNet.WeightSelection.Bench.dll");
    }

    static long HeaderLength(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        return (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(prefix);
    }

    static Measurement Report(Measurement m)
    {
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {m.File,-36} {m.Build,-12} {m.Kind,-13} wall {m.WallSeconds,7:F2} s{(m.OpenSeconds is { } o ? $", open {o,6:F2} s" : "")}{(m.AllocatedBytes is { } a ? $", allocated {Mb(a),8:F2} MB" : "")}, VmHWM {Mb(m.VmHwmBytes),6:F0} MB"));
        return m;
    }

    static (List<Dictionary<string, object?>> Rows, string Markdown) Summarize(List<Measurement> all, Dictionary<string, long> headerBytes, List<string> builds)
    {
        var rows = new List<Dictionary<string, object?>>();
        var md = new StringBuilder();
        int rounds = all.Max(m => m.Round);
        string normal = all[0].File;
        md.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Medians over {rounds} interleaved rounds, each run a fresh process. \"× normal\": the run's wall time over the same build's run on the normal file in the same round (median of the per-round ratios); process start-up (about 0.5 s) is in both."));
        md.AppendLine();
        md.AppendLine("| file | header (MB) | build | run | wall (s) | × normal | open in-process (s) | allocated by open (MB) | allocated / header | peak RSS VmHWM (MB) |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var group in all.GroupBy(m => (m.File, m.Build, m.Kind)))
        {
            var g = group.ToList();
            var normals = all.Where(m => m.File == normal && m.Build == group.Key.Build && m.Kind == group.Key.Kind).ToDictionary(m => m.Round, m => m.WallSeconds);
            double wall = Stats.Median(g.Select(m => m.WallSeconds));
            double ratio = Stats.Median(g.Select(m => m.WallSeconds / normals[m.Round]));
            double? open = g[0].OpenSeconds is null ? null : Stats.Median(g.Select(m => m.OpenSeconds!.Value));
            double? allocated = g[0].AllocatedBytes is null ? null : Stats.Median(g.Select(m => (double)m.AllocatedBytes!.Value));
            double hwm = Stats.Median(g.Select(m => (double)m.VmHwmBytes));
            long header = headerBytes[group.Key.File];
            rows.Add(new Dictionary<string, object?>
            {
                ["file"] = group.Key.File, ["header_bytes"] = header, ["build"] = group.Key.Build, ["run"] = group.Key.Kind,
                ["median_wall_seconds"] = wall, ["median_wall_over_normal"] = ratio, ["median_open_seconds"] = open,
                ["median_open_allocated_bytes"] = allocated, ["open_allocated_over_header"] = allocated / header,
                ["median_vm_hwm_bytes"] = hwm, ["output_chars"] = g[0].OutputChars,
            });
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {group.Key.File} | {header / 1e6:F3} | {group.Key.Build} | {group.Key.Kind} | {wall:F2} | {ratio:F2} | {(open is { } o ? o.ToString("F2", CultureInfo.InvariantCulture) : "–")} | {(allocated is { } a ? Mb((long)a).ToString("F2", CultureInfo.InvariantCulture) : "–")} | {(allocated is { } a2 ? (a2 / header).ToString("F2", CultureInfo.InvariantCulture) : "–")} | {Mb((long)hwm):F0} |"));
        }
        if (builds.Count > 1)
        {
            md.AppendLine();
            md.AppendLine($"| file | run | {builds[1]} / this build, wall | {builds[1]} / this build, peak RSS |");
            md.AppendLine("|---|---|---|---|");
            foreach (var group in all.Where(m => m.Build == builds[0]).GroupBy(m => (m.File, m.Kind)))
            {
                var baseline = all.Where(m => m.Build == builds[1] && m.File == group.Key.File && m.Kind == group.Key.Kind).ToDictionary(m => m.Round);
                double wallRatio = Stats.Median(group.Select(m => baseline[m.Round].WallSeconds / m.WallSeconds));
                double memoryRatio = Stats.Median(group.Select(m => baseline[m.Round].VmHwmBytes / (double)m.VmHwmBytes));
                md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {group.Key.File} | {group.Key.Kind} | {wallRatio:F1} | {memoryRatio:F1} |"));
            }
        }
        md.AppendLine();
        md.AppendLine("Library open: `SafeTensorsFile.Open` in a child process, then every tensor's info; allocated bytes are counted on the opening thread (GC.GetAllocatedBytesForCurrentThread) around `Open` alone. ws inspect: `ws inspect FILE` with its output discarded; its VmHWM is polled from /proc every 5 ms.");
        return (rows, md.ToString());
    }

    static double Mb(long bytes) => bytes / 1e6;
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using MLNet.WeightSelection.Bench.Infra;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;

namespace MLNet.WeightSelection.Bench.Selection;

/// <summary>
/// Issue 6, section 1: selection speed and memory. A ViT-L/16-sized random teacher (1.2 GB fp32) is selected into
/// ViT-Tiny and ViT-Base by this library (a child process per selection) and by the reference PyTorch approach
/// (bench/python/select_baseline.py), interleaved round by round with the floor: one sequential read of the teacher
/// from warm page cache. Each child is measured from outside (wall time, /proc polling) and reports its own VmHWM.
/// </summary>
static class SelectionBenchmark
{
    const string TeacherModel = "vit_large_patch16_224";
    static readonly string[] Students = { "vit_tiny_patch16_224", "vit_base_patch16_224" };
    const long Budget = 100L << 20; // the goal's allowance above the student's size

    sealed record Measurement(string Kind, string Student, int Round, double WallSeconds, double InProcessSeconds,
        Dictionary<string, double> Phases, Dictionary<string, double> PhasesCpu, long VmHwmBytes, long SampledPeakAnonBytes, long SampledPeakFileBytes, long StudentBytes);

    public static int Run(Args args, string[] raw)
    {
        int rounds = args.Int("rounds", 3);
        string python = args.Get("python", "/usr/bin/python3");
        bool keep = args.Flag("keep-teacher");
        args.EnsureAllUsed();
        var machine = MachineInfo.Current();
        var started = DateTime.UtcNow;
        Console.Error.WriteLine($"Selection benchmark on {machine.Describe()}.");

        string teacher = Repo.Out("selection", TeacherModel + ".safetensors");
        object? teacherMade = null;
        if (!File.Exists(teacher))
        {
            Console.Error.WriteLine($"Writing the random {TeacherModel} teacher to {teacher} ...");
            var made = ChildProcess.RunSelf("make-teacher", "--model", TeacherModel, "--out", teacher);
            teacherMade = made.Result;
        }
        long teacherBytes = new FileInfo(teacher).Length;

        var shapeFiles = new Dictionary<string, string>();
        var studentBytes = new Dictionary<string, long>();
        foreach (var s in Students)
        {
            using var model = ModelRegistry.Create(s);
            var shapes = model.state_dict().Select(kv => new object[] { kv.Key, kv.Value.shape }).ToList();
            studentBytes[s] = model.state_dict().Values.Sum(t => t.numel()) * 4;
            shapeFiles[s] = Repo.Out("selection", s + ".shapes.json");
            File.WriteAllText(shapeFiles[s], JsonSerializer.Serialize(shapes));
        }

        Console.Error.WriteLine("Warming the page cache with one unmeasured read of the teacher ...");
        ChildProcess.RunSelf("read-file", "--file", teacher);
        var runtime = ChildProcess.RunSelf("runtime-baseline");
        long runtimeHwm = runtime.Result.GetProperty("vm_hwm_bytes").GetInt64();
        long runtimeAnon = runtime.Result.GetProperty("rss_anon_bytes_at_exit").GetInt64();

        var all = new List<Measurement>();
        for (int r = 1; r <= rounds; r++)
        {
            Console.Error.WriteLine($"Round {r} of {rounds} (load {string.Join(" / ", MachineInfo.LoadAverageNow())}) ...");
            all.Add(Measure("floor: read teacher once", "-", r, ChildProcess.RunSelf("read-file", "--file", teacher), 0));
            foreach (var s in Students)
            {
                string outCs = Repo.Out("selection", $"{s}.selected.cs.safetensors");
                all.Add(Measure("MLNet.WeightSelection (memory-mapped, streaming)", s, r,
                    ChildProcess.RunSelf("select", "--teacher", teacher, "--student", s, "--out", outCs), studentBytes[s]));
                string outPy = Repo.Out("selection", $"{s}.selected.py.safetensors");
                all.Add(Measure("PyTorch: load state dict, index_select", s, r,
                    ChildProcess.Run(python, new[] { Repo.Python("select_baseline.py"), "--teacher", teacher, "--shapes", shapeFiles[s], "--out", outPy }),
                    studentBytes[s]));
            }
        }

        var agreement = Students.ToDictionary(s => s, s => Compare(Repo.Out("selection", $"{s}.selected.cs.safetensors"), Repo.Out("selection", $"{s}.selected.py.safetensors")));
        var summary = Summarize(all, teacherBytes, runtimeHwm, runtimeAnon, studentBytes);
        var data = new Dictionary<string, object?>
        {
            ["teacher"] = new { model = TeacherModel, bytes = teacherBytes, path = Path.GetRelativePath(Repo.Root, teacher), made = teacherMade },
            ["students"] = studentBytes,
            ["rounds"] = rounds,
            ["runtime_baseline_vm_hwm_bytes"] = runtimeHwm,
            ["runtime_baseline_rss_anon_bytes"] = runtimeAnon,
            ["goal_memory_allowance_bytes"] = Budget,
            ["measurements"] = all,
            ["summary"] = summary.Rows,
            ["cs_vs_python_outputs"] = agreement,
        };
        ResultFile.Write("selection", ResultFile.Command(raw), machine, started, data, summary.Markdown + "\n" + AgreementMarkdown(agreement));
        if (!keep) Console.Error.WriteLine($"The teacher stays in {teacher} for later runs (git-ignored).");
        return 0;
    }

    static Measurement Measure(string kind, string student, int round, ChildRun run, long studentBytes)
    {
        var r = run.Result;
        var phases = r.TryGetProperty("phases", out var p)
            ? p.EnumerateObject().ToDictionary(x => x.Name, x => x.Value.GetDouble())
            : new Dictionary<string, double>();
        var phasesCpu = r.TryGetProperty("phases_cpu", out var pc)
            ? pc.EnumerateObject().ToDictionary(x => x.Name, x => x.Value.GetDouble())
            : new Dictionary<string, double>();
        var m = new Measurement(kind, student, round, run.WallSeconds, r.GetProperty("in_process_seconds").GetDouble(), phases, phasesCpu,
            r.GetProperty("vm_hwm_bytes").GetInt64(), run.SampledPeak.RssAnon, run.SampledPeak.RssFile, studentBytes);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {kind,-50} {student,-22} wall {m.WallSeconds,6:F2} s, in-process {m.InProcessSeconds,6:F2} s, VmHWM {Mb(m.VmHwmBytes),6:F0} MB (anon ≤ {Mb(m.SampledPeakAnonBytes):F0}, file ≤ {Mb(m.SampledPeakFileBytes):F0})"));
        return m;
    }

    /// <summary>The "work" time of a run: what remains after process start-up, comparable across runtimes.</summary>
    static double WorkSeconds(Measurement m) => Work(m, m.Phases);

    /// <summary>The same phases in CPU time (user + system): on a shared machine, free of the time spent waiting for a core.</summary>
    static double WorkCpuSeconds(Measurement m) => Work(m, m.PhasesCpu);

    static double Work(Measurement m, Dictionary<string, double> p) => m.Kind.StartsWith("floor", StringComparison.Ordinal) ? p["read"]
        : m.Kind.StartsWith("PyTorch", StringComparison.Ordinal) ? p["load_state_dict"] + p["select"] + p["write_student"]
        : p["open_teacher"] + p["select"] + p["write_student"];

    static (List<Dictionary<string, object>> Rows, string Markdown) Summarize(List<Measurement> all, long teacherBytes, long runtimeHwm, long runtimeAnon,
        Dictionary<string, long> studentBytes)
    {
        var rows = new List<Dictionary<string, object>>();
        var md = new StringBuilder();
        var floorWork = all.Where(m => m.Kind.StartsWith("floor", StringComparison.Ordinal)).ToDictionary(m => m.Round, WorkSeconds);
        var floorCpu = all.Where(m => m.Kind.StartsWith("floor", StringComparison.Ordinal)).ToDictionary(m => m.Round, WorkCpuSeconds);
        var floorWall = all.Where(m => m.Kind.StartsWith("floor", StringComparison.Ordinal)).ToDictionary(m => m.Round, m => m.WallSeconds);
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Teacher: {TeacherModel}, random weights, {teacherBytes / 1e6:F0} MB fp32. Medians over {floorWork.Count} interleaved rounds; ratios are per round (each run against the floor read of the same round), then the median."));
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"A TorchSharp process that only starts libtorch peaks at {Mb(runtimeHwm):F0} MB (VmHWM), {Mb(runtimeAnon):F0} MB of it private (RssAnon at exit)."));
        md.AppendLine();
        md.AppendLine("| run | student (MB) | work wall (s) | × floor | work CPU (s) | × floor CPU | process wall (s) | × floor process | peak RSS VmHWM (MB) | peak anon (MB) | peak file-backed (MB) | anon − runtime − student (MB) |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var group in all.GroupBy(m => (m.Kind, m.Student)))
        {
            var g = group.ToList();
            double work = Stats.Median(g.Select(WorkSeconds));
            double wall = Stats.Median(g.Select(m => m.WallSeconds));
            double ratioWork = Stats.Median(g.Select(m => WorkSeconds(m) / floorWork[m.Round]));
            double cpu = Stats.Median(g.Select(WorkCpuSeconds));
            double ratioCpu = Stats.Median(g.Select(m => WorkCpuSeconds(m) / floorCpu[m.Round]));
            double ratioWall = Stats.Median(g.Select(m => m.WallSeconds / floorWall[m.Round]));
            long hwm = (long)Stats.Median(g.Select(m => (double)m.VmHwmBytes));
            long anon = g.Max(m => m.SampledPeakAnonBytes);
            long file = g.Max(m => m.SampledPeakFileBytes);
            long student = g[0].StudentBytes;
            var phases = g[0].Phases.Keys.ToDictionary(k => k, k => Stats.Median(g.Select(m => m.Phases[k])));
            rows.Add(new Dictionary<string, object>
            {
                ["kind"] = group.Key.Kind, ["student"] = group.Key.Student, ["student_bytes"] = student,
                ["median_work_seconds"] = work, ["median_work_over_floor"] = ratioWork,
                ["median_work_cpu_seconds"] = cpu, ["median_work_cpu_over_floor_cpu"] = ratioCpu,
                ["median_wall_seconds"] = wall, ["median_wall_over_floor_wall"] = ratioWall,
                ["median_vm_hwm_bytes"] = hwm, ["max_sampled_anon_bytes"] = anon, ["max_sampled_file_bytes"] = file,
                ["median_phases_seconds"] = phases,
                ["vm_hwm_minus_student_bytes"] = hwm - student,
                ["meets_time_goal"] = group.Key.Kind.StartsWith("floor", StringComparison.Ordinal) || ratioWork <= 1.5,
                ["meets_memory_goal_vmhwm"] = student == 0 || hwm <= student + Budget,
                ["meets_memory_goal_private_above_runtime"] = student == 0 || anon - runtimeAnon <= student + Budget,
            });
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {group.Key.Kind} | {(student == 0 ? "–" : $"{group.Key.Student} ({Mb(student):F0})")} | {work:F2} | {ratioWork:F2} | {cpu:F2} | {ratioCpu:F2} | {wall:F2} | {ratioWall:F2} | {Mb(hwm):F0} | {Mb(anon):F0} | {Mb(file):F0} | {(student == 0 ? "–" : $"{Mb(anon - runtimeAnon - student):F0}")} |"));
        }
        md.AppendLine();
        md.AppendLine("Peak anon: the highest RssAnon (private memory) seen while polling every 5 ms; peak file-backed: the highest RssFile (mapped pages of the teacher and of the libraries, page cache the kernel can drop).");
        md.AppendLine("Work time: C#: open + select + write (without process start-up and building the student model, listed in the JSON phases); PyTorch: load state dict + select + write (without `import torch`); floor: the read itself.");
        return (rows, md.ToString());
    }

    /// <summary>
    /// Checks that both implementations selected the same elements where they must agree: every tensor except the
    /// classifier (C# keeps the student's own initialization) and the fused qkv (C# selects q, k and v with one
    /// consistent index set; the per-axis reference rounds over the fused axis).
    /// </summary>
    static object Compare(string cs, string py)
    {
        using var a = SafeTensorsFile.Open(cs);
        using var b = SafeTensorsFile.Open(py);
        int equal = 0, compared = 0;
        var different = new List<string>();
        foreach (var key in a.Keys.Where(k => !k.StartsWith("head.", StringComparison.Ordinal) && !k.Contains(".qkv.", StringComparison.Ordinal)))
        {
            using var x = a.Read(key);
            using var y = b.Read(key);
            compared++;
            if (x.shape.SequenceEqual(y.shape) && x.allclose(y, rtol: 0, atol: 0)) equal++;
            else different.Add(key);
        }
        return new { compared, identical = equal, different = different.Take(10).ToArray() };
    }

    static string AgreementMarkdown(Dictionary<string, object> agreement) =>
        "Same selected values in both implementations (all tensors except head.* and the fused qkv): " +
        string.Join("; ", agreement.Select(kv => $"{kv.Key}: {ResultFile.Serialize(kv.Value).Replace("\n", " ").Replace("  ", "")}")) + ".\n";

    static double Mb(long bytes) => bytes / 1e6;
}

using System.Diagnostics;
using MLNet.WeightSelection.Bench.Infra;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Selection;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Bench.Selection;

/// <summary>The processes the selection benchmark measures, each run as a child of <see cref="SelectionBenchmark"/>.</summary>
static class SelectionChildren
{
    /// <summary>
    /// <c>make-teacher --model vit_large_patch16_224 --out FILE</c>: a random-weight teacher with timm's initialization,
    /// written as safetensors (fp32).
    /// </summary>
    public static int MakeTeacher(Args args)
    {
        string model = args.Get("model", "vit_large_patch16_224");
        string output = args.Required("out");
        args.EnsureAllUsed();
        var clock = Stopwatch.StartNew();
        manual_seed(0);
        using var teacher = ModelRegistry.Create(model);
        var state = teacher.state_dict();
        SafeTensorsWriter.Save(output, state, new Dictionary<string, string> { ["model"] = model, ["weights"] = "random (timm init), seed 0" });
        ChildProcess.Report(new()
        {
            ["model"] = model,
            ["parameters"] = state.Values.Sum(t => t.numel()),
            ["bytes"] = new FileInfo(output).Length,
            ["seconds"] = clock.Elapsed.TotalSeconds,
        });
        return 0;
    }

    /// <summary>
    /// <c>read-file --file FILE</c>: reads the whole file once, sequentially, into one reused 8 MiB buffer (the floor
    /// for any selection that must look at the teacher). Touches every byte so nothing is skipped.
    /// </summary>
    public static int ReadFile(Args args)
    {
        string file = args.Required("file");
        args.EnsureAllUsed();
        var clock = new PhaseClock();
        var buffer = new byte[8 << 20];
        long total = 0, checksum = 0;
        using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan))
        {
            int n;
            while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                total += n;
                for (int i = 0; i < n; i += 4096) checksum += buffer[i];
            }
        }
        clock.Lap("read");
        ChildProcess.Report(new()
        {
            ["bytes"] = total,
            ["checksum"] = checksum,
            ["in_process_seconds"] = clock.TotalWallSeconds,
            ["phases"] = clock.Wall,
            ["phases_cpu"] = clock.CpuSeconds,
            ["process_cpu_seconds"] = PhaseClock.ProcessCpuSeconds(),
        });
        return 0;
    }

    /// <summary>
    /// <c>select --teacher FILE --student NAME --out FILE</c>: what <c>ws select</c> does. Opens the teacher memory-mapped,
    /// takes the student's key shapes from a freshly built student (whose classifier keeps its own initialization),
    /// streams the selection (<see cref="WeightSelector.Select(ITensorSource, IEnumerable{KeyValuePair{string, long[]}}, SelectionSchema?, SelectionOptions?)"/>)
    /// and writes the student as safetensors.
    /// </summary>
    public static int Select(Args args)
    {
        string teacherPath = args.Required("teacher");
        string studentName = args.Required("student");
        string output = args.Required("out");
        bool profile = args.Flag("profile");
        args.EnsureAllUsed();

        var clock = new PhaseClock();
        using var teacher = SafeTensorsFile.Open(teacherPath);
        clock.Lap("open_teacher");

        // The student's shapes, and its classifier's own initialization (the only tensors not selected).
        List<KeyValuePair<string, long[]>> shapes;
        var classifier = new List<KeyValuePair<string, Tensor>>();
        using (var student = ModelRegistry.Create(studentName))
        {
            var state = student.state_dict();
            shapes = state.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.shape)).ToList();
            foreach (var key in student.ClassifierKeys) classifier.Add(KeyValuePair.Create(key, state[key].detach().clone()));
        }
        GC.Collect();
        clock.Lap("build_student_shapes");

        // With --profile, the time of every student tensor (from the progress callback) goes to stderr, slowest first.
        var perTensor = new List<(string Key, double Seconds)>();
        var tensorClock = Stopwatch.StartNew();
        var options = new SelectionOptions
        {
            Progress = profile ? new SynchronousProgress<SelectionProgress>(p => perTensor.Add((p.Key, Lap(tensorClock)))) : null,
        };
        using var result = WeightSelector.Select(teacher, shapes, options: options);
        clock.Lap("select");
        foreach (var (key, seconds) in perTensor.OrderByDescending(p => p.Seconds).Take(15))
            Console.Error.WriteLine($"  {seconds * 1000,8:F1} ms  {key}");

        var order = shapes.Select(s => s.Key).ToList();
        var tensors = order.Select(k => result.Weights.Contains(k) ? KeyValuePair.Create(k, result.Weights[k])
            : classifier.First(c => c.Key == k)).ToList();
        SafeTensorsWriter.Save(output, tensors);
        clock.Lap("write_student");
        foreach (var c in classifier) c.Value.Dispose();

        long studentBytes = shapes.Sum(s => s.Value.Aggregate(1L, (a, b) => a * b)) * 4;
        ChildProcess.Report(new()
        {
            ["student"] = studentName,
            ["student_tensors"] = shapes.Count,
            ["student_bytes"] = studentBytes,
            ["teacher_bytes"] = new FileInfo(teacherPath).Length,
            ["in_process_seconds"] = clock.TotalWallSeconds,
            ["phases"] = clock.Wall,
            ["phases_cpu"] = clock.CpuSeconds,
            ["process_cpu_seconds"] = PhaseClock.ProcessCpuSeconds(),
        });
        return 0;
    }

    /// <summary><c>runtime-baseline</c>: starts the runtime and libtorch, allocates one small tensor, and exits: the fixed memory cost of any TorchSharp process.</summary>
    public static int RuntimeBaseline(Args args)
    {
        args.EnsureAllUsed();
        var clock = Stopwatch.StartNew();
        using var t = ones(16);
        double sum = t.sum().item<float>();
        ChildProcess.Report(new() { ["sum"] = sum, ["in_process_seconds"] = clock.Elapsed.TotalSeconds });
        return 0;
    }

    sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    static double Lap(Stopwatch clock)
    {
        double s = clock.Elapsed.TotalSeconds;
        clock.Restart();
        return s;
    }
}

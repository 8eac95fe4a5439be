using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.WeightSelection.Bench.Accuracy;
using MLNet.WeightSelection.Bench.Infra;
using MLNet.WeightSelection.MLNet;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Training;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Bench.DataScale;

/// <summary>
/// Issue 15: <c>data-scale [--cases 60000x224,200000x64,20000x64:memory,20000x64:file] [--steps 30] [--threads 2] [--result data_scale]</c>.
/// Each case runs in its own process (memory is per process). It reads N Fashion-MNIST images (the 60,000 training
/// images, repeated in order past 60,000) through the estimator's own reading path (the pixel steps of <c>Fit</c> and
/// <c>ReadData</c>: decode, resize to the size, uint8 planes, spilled to a memory-mapped file past
/// <c>WS_PIXELS_IN_MEMORY_MAX</c>), then trains resnet18_half for a fixed number of steps on batches drawn at random
/// from all N images (a Subset of random rows shares the pixels, as Fit's training split does). A sampler reads
/// /proc/self/status every 100 ms: peak RssAnon (the process's own memory) and peak RssFile (pages of the mapped file,
/// the kernel's page cache; beyond those mapped before reading, i.e. the libraries) per phase. The trainer's epoch line gives images/s and the data share of step time.
/// ":memory" / ":file" force the in-memory path or the file, for the side-by-side at a size both hold; ":noprefetch"
/// reads each batch when its step asks instead of one step ahead (<c>BatchPrefetcher</c>); ":cold" drops the kernel's
/// page cache between reading and training (root only), so batches come from the disk. <c>--result NAME</c> names
/// the result file (data_scale).
/// </summary>
static class DataScaleBenchmark
{
    sealed class Row
    {
        public float[] Image { get; set; } = Array.Empty<float>();

        public string Label { get; set; } = "";
    }

    public static int Run(Args args, string[] raw)
    {
        var cases = args.List("cases", "20000x64:memory,20000x64:file,200000x64,60000x224");
        int steps = args.Int("steps", 30);
        int threads = args.Int("threads", 2);
        string resultName = args.Get("result", "data_scale");
        args.EnsureAllUsed();
        var machine = MachineInfo.Current();
        var started = DateTime.UtcNow;
        var results = new List<Dictionary<string, object?>>();
        foreach (var c in cases)
        {
            var (images, size, mode, prefetch, cold) = Parse(c);
            Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {c} (load {string.Join(" / ", MachineInfo.LoadAverageNow())}) ...");
            var env = new Dictionary<string, string>();
            if (mode == "memory") env["WS_PIXELS_IN_MEMORY_MAX"] = long.MaxValue.ToString(CultureInfo.InvariantCulture);
            if (mode == "file") env["WS_PIXELS_IN_MEMORY_MAX"] = "0";
            var (file, prefix) = ChildProcess.Self();
            var run = ChildProcess.Run(file, prefix.Concat(new[] { "data-scale-case", "--images", images.ToString(CultureInfo.InvariantCulture),
                "--size", size.ToString(CultureInfo.InvariantCulture), "--steps", steps.ToString(CultureInfo.InvariantCulture),
                "--threads", threads.ToString(CultureInfo.InvariantCulture), "--prefetch", prefetch ? "on" : "off", "--cold", cold ? "on" : "off" }).ToArray(), env);
            var report = run.Result.EnumerateObject().ToDictionary(p => p.Name, p => (object?)(p.Value.ValueKind switch
            {
                System.Text.Json.JsonValueKind.Number => p.Value.GetDouble(),
                System.Text.Json.JsonValueKind.Null => null,
                _ => p.Value.ToString(),
            }));
            report["wall_seconds"] = run.WallSeconds;
            report["case"] = c;
            report["load_after"] = string.Join(" / ", MachineInfo.LoadAverageNow());
            results.Add(report);
            Console.Error.WriteLine("  -> " + string.Join(", ", report.Select(kv => $"{kv.Key} {kv.Value}")));
        }

        var md = new StringBuilder();
        md.AppendLine("Fashion-MNIST images read through Fit's reading path, then resnet18_half trained on random batches of 64 from all of them; peaks sampled every 100 ms from /proc/self/status.");
        md.AppendLine();
        md.AppendLine("| case | pixels | where | read (s) | peak own memory while reading | while training | peak mapped-file pages | img/s | data share of step time | load after |");
        md.AppendLine("|---|---:|---|---:|---:|---:|---:|---:|---:|---|");
        foreach (var r in results)
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r["case"]} | {GiB(r["pixel_bytes"])} | {r["where"]} | {r["read_seconds"]:F0} | {GiB(r["read_peak_rss_anon"])} | {GiB(r["train_peak_rss_anon"])} | {GiB(r["peak_rss_file"])} | {r["images_per_second"]:F1} | {r["data_share_percent"]:F1} % | {r["load_after"]} |"));
        ResultFile.Write(resultName, ResultFile.Command(raw), machine, started, new { results }, md.ToString());
        Console.WriteLine(md);
        return 0;
    }

    /// <summary>The child: one case, measured in its own process.</summary>
    public static int Case(Args args)
    {
        int count = args.Int("images", 20000);
        int size = args.Int("size", 64);
        int steps = args.Int("steps", 30);
        int threads = args.Int("threads", 2);
        BatchPrefetcher.Enabled = args.Get("prefetch", "on") != "off";
        bool cold = args.Get("cold", "off") == "on";
        args.EnsureAllUsed();

        var fmnist = GreyImageSet.From(FashionMnist.Train(), "train");
        var sampler = new MemorySampler();
        var ml = new MLContext(seed: 1);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema["Image"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 1, fmnist.Side, fmnist.Side);
        // Rows are made as the cursor asks for them, so the input itself costs no memory.
        var raw = ml.Data.LoadFromEnumerable(Rows(fmnist, count), schema);
        var view = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Fit(ml.Data.TakeRows(raw, Math.Min(count, 2000))).Transform(raw);
        var image = ImageColumn.Inspect(view.Schema, "Image");
        var label = LabelColumn.Inspect(view.Schema, "Label");

        var clock = Stopwatch.StartNew();
        sampler.Phase("read");
        var (steps1, _) = PixelPipeline.Build(ml, image, size);
        var pixels = steps1.Fit(view);
        var log = new List<string>();
        var (data, _) = ReadData.Read(ml, pixels, view, image, label, size, skipUnreadable: false, () => { }, log.Add, "training data", requireTwoClasses: true);
        double readSeconds = clock.Elapsed.TotalSeconds;
        string where = log.Any(l => l.Contains("memory-mapped", StringComparison.Ordinal)) ? "mapped file" : "memory";
        GC.Collect();

        if (cold) DropPageCache();
        sampler.Phase("train");
        var options = new TrainingOptions { Epochs = 1, BatchSize = 64, WarmupEpochs = 0, Augmentation = AugmentationOptions.None, Threads = threads, Seed = 1 };
        var random = new Random(1);
        var rows = Enumerable.Range(0, steps * options.BatchSize).Select(_ => (long)random.NextInt64(data.Count)).ToList();
        EpochMetrics? metrics = null;
        using (var batches = data.Subset(rows))
        using (var student = ModelRegistry.Create("resnet18_half", numClasses: 10, imgSize: size))
            new ImageClassifierTrainer(options).Train(student, batches, null, onEpoch: m => metrics = m);
        var (readPeak, trainPeak, filePeak) = (sampler.PeakAnon("read"), sampler.PeakAnon("train"), sampler.PeakFile);
        sampler.Dispose();
        data.Dispose();

        ChildProcess.Report(new()
        {
            ["images"] = count,
            ["size"] = size,
            ["pixel_bytes"] = (long)count * 3 * size * size,
            ["where"] = where,
            ["read_seconds"] = readSeconds,
            ["read_peak_rss_anon"] = readPeak,
            ["train_peak_rss_anon"] = trainPeak,
            ["peak_rss_file"] = filePeak,
            ["steps"] = steps,
            ["images_per_second"] = metrics?.ImagesPerSecond,
            ["data_share_percent"] = metrics is null ? null : 100 * metrics.DataShare,
        });
        return 0;
    }

    static IEnumerable<Row> Rows(GreyImageSet set, int count)
    {
        for (int i = 0; i < count; i++)
        {
            int r = i % set.Count;
            var pixels = set.Image(r);
            var image = new float[pixels.Length];
            for (int p = 0; p < pixels.Length; p++) image[p] = pixels[p];
            yield return new Row { Image = image, Label = set.ClassNames[set.Labels[r]] };
        }
    }

    static (int Images, int Size, string Mode, bool Prefetch, bool Cold) Parse(string c)
    {
        var fields = c.Split(':');
        var parts = fields[0].Split('x');
        var flags = fields.Skip(1).ToList();
        string mode = flags.FirstOrDefault(f => f is "memory" or "file") ?? "auto";
        bool prefetch = !flags.Contains("noprefetch");
        bool cold = flags.Contains("cold");
        if (parts.Length != 2 || flags.Any(f => f is not ("memory" or "file" or "noprefetch" or "cold")) || flags.Count(f => f is "memory" or "file") > 1)
            throw new ArgumentException($"A case is IMAGESxSIZE[:memory|:file][:noprefetch][:cold]; got '{c}'.");
        return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture), mode, prefetch, cold);
    }

    /// <summary>
    /// Writes dirty pages back, then asks the kernel to drop clean page cache (root only), so that training reads the
    /// pixel file from the disk as it would for a cache larger than memory. It affects the whole machine.
    /// </summary>
    static void DropPageCache()
    {
        using (var sync = Process.Start("sync")!) sync.WaitForExit();
        try
        {
            File.WriteAllText("/proc/sys/vm/drop_caches", "1");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new InvalidOperationException("A ':cold' case drops the page cache, which needs root.", e);
        }
    }

    static string GiB(object? bytes) => bytes is null ? "" : string.Create(CultureInfo.InvariantCulture, $"{Convert.ToDouble(bytes, CultureInfo.InvariantCulture) / (1 << 30):F2} GiB");

    /// <summary>Polls RssAnon and RssFile of this process every 100 ms, keeping the peaks per phase.</summary>
    sealed class MemorySampler : IDisposable
    {
        readonly Dictionary<string, long> _anon = new();
        readonly CancellationTokenSource _stop = new();
        readonly Thread _thread;
        string _phase = "";
        long _file;

        public MemorySampler()
        {
            BaselineFile = ProcMemory.Self().RssFile;
            _thread = new Thread(() =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    Sample();
                    Thread.Sleep(100);
                }
            }) { IsBackground = true };
            _thread.Start();
        }

        /// <summary>File pages mapped before any image was read (the runtime's and libtorch's libraries).</summary>
        public long BaselineFile { get; }

        /// <summary>Peak file-backed pages beyond <see cref="BaselineFile"/>: the pixel file's pages.</summary>
        public long PeakFile { get { Sample(); lock (_anon) return Math.Max(0, _file - BaselineFile); } }

        public void Phase(string name)
        {
            Sample();
            lock (_anon) _phase = name;
        }

        public long PeakAnon(string phase)
        {
            Sample();
            lock (_anon) return _anon.GetValueOrDefault(phase);
        }

        void Sample()
        {
            var m = ProcMemory.Self();
            lock (_anon)
            {
                _anon[_phase] = Math.Max(_anon.GetValueOrDefault(_phase), m.RssAnon);
                _file = Math.Max(_file, m.RssFile);
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _thread.Join();
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.WeightSelection.Bench.Accuracy;
using MLNet.WeightSelection.Bench.Infra;
using MLNet.WeightSelection.MLNet;
using MLNet.WeightSelection.Training;
using SkiaSharp;

namespace MLNet.WeightSelection.Bench.DataScale;

/// <summary>
/// Issue 15: <c>data-scale-read [--images 2000 --size 224 --rounds 3 --kinds pixels,png,files --threads floats,1,auto]</c>.
/// Reads the same N Fashion-MNIST images through <c>Fit</c>'s reading path (the fitted pixel steps, then
/// <see cref="ImageRows"/> into a <see cref="PixelBuffer"/>) in one process, one way after the other, round by round
/// (the order flips every round), so the ratios hold on a shared machine. Kinds: <c>pixels</c> (a float vector column,
/// as data-scale reads), <c>png</c> (encoded PNG bytes in memory, the LoadRawImageBytes kind) and <c>files</c> (PNG
/// files through LoadImages, written once under bench/out). Ways: <c>floats</c> (one thread, reading the scoring
/// chain's float pixels and rounding them: the read before issue 15's change; images and bytes only), <c>1</c>, a
/// number of threads, or <c>auto</c> (what Fit does: one per core, at most 8). Each round checks that every way gave the
/// same bytes and labels. An untimed read of the first rows in every way comes first, so no timed read compiles code.
/// </summary>
static class ReadThreadsBenchmark
{
    sealed class PixelRow
    {
        public float[] Image { get; set; } = Array.Empty<float>();

        public string Label { get; set; } = "";
    }

    sealed class PngRow
    {
        public byte[] Image { get; set; } = Array.Empty<byte>();

        public string Label { get; set; } = "";
    }

    sealed class FileRow
    {
        public string Path { get; set; } = "";

        public string Label { get; set; } = "";
    }

    sealed record Source(string Kind, IDataView Data, ImageColumn Image, LabelColumn Label, ITransformer Pixels);

    public static int Run(Args args, string[] raw)
    {
        int count = args.Int("images", 2000);
        int size = args.Int("size", 224);
        int rounds = args.Int("rounds", 3);
        var kinds = args.List("kinds", "pixels,png,files");
        var ways = args.List("threads", "floats,1,auto");
        args.EnsureAllUsed();
        var machine = MachineInfo.Current();
        var started = DateTime.UtcNow;

        var fmnist = GreyImageSet.From(FashionMnist.Train(), "train");
        var ml = new MLContext(seed: 1);
        var sources = kinds.Select(kind => Open(ml, fmnist, count, size, kind)).ToList();
        // Compiles every way's code before the first timed read.
        // The cache way is primed on the whole data, so that every timed read of it is a hit.
        foreach (var source in sources)
            foreach (var way in ways.Where(w => Applies(w, source)))
                Measure(ml, way == "cache" ? source : source with { Data = ml.Data.TakeRows(source.Data, ImageRows.ParallelFromRows + 64) }, size, way);
        var results = new List<Dictionary<string, object?>>();
        var cores = new List<double>();
        for (int round = 1; round <= rounds; round++)
        {
            cores.Add(CoresAvailable());
            Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] round {round}: this process gets {cores[^1]:F2} cores (one busy thread per core for 1 s)");
            foreach (var source in sources)
            {
                var order = ways.Where(w => Applies(w, source)).ToList();
                if (round % 2 == 0) order.Reverse();
                string? reference = null;
                foreach (var way in order)
                {
                    var r = Measure(ml, source, size, way);
                    r["round"] = round;
                    reference ??= (string)r["sha256"]!;
                    if ((string)r["sha256"]! != reference)
                        throw new InvalidOperationException($"{source.Kind}, round {round}: '{way}' read other pixels or labels than '{order[0]}'.");
                    results.Add(r);
                    Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] round {round} {source.Kind} {way}: {r["seconds"]:F2} s, CPU {r["cpu_seconds"]:F2} s, load {r["load_before"]} -> {r["load_after"]}");
                }
            }
        }

        var md = new StringBuilder();
        md.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"{count:N0} Fashion-MNIST images resized to {size} px through Fit's reading path (fitted pixel steps, then ImageRows into a PixelBuffer), each way one after the other in the same process, {rounds} rounds (order flipped every round). Every way gave the same SHA-256 of pixels and labels in every round. Median over rounds; ratio = median of the per-round ratios against one thread."));
        md.AppendLine();
        md.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Cores this process could use, measured before each round (CPU seconds per second of {Environment.ProcessorCount} busy threads for 1 s; with other processes busy, Linux shares the cores between them, so more threads may not get more CPU): {string.Join(", ", cores.Select(c => c.ToString("F2", CultureInfo.InvariantCulture)))}."));
        md.AppendLine();
        md.AppendLine("| kind | way | threads | read (s), median | min–max | CPU (s), median | images/s | 1 thread ÷ this | load average during the rounds (1 min) |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---|");
        foreach (var kind in kinds)
            foreach (var way in ways)
            {
                var rows = results.Where(r => (string)r["kind"]! == kind && (string)r["way"]! == way).ToList();
                if (rows.Count == 0) continue;
                var seconds = rows.Select(r => (double)r["seconds"]!).ToList();
                var ratios = rows.Select(r => results.FirstOrDefault(o => (string)o["kind"]! == kind && (string)o["way"]! == "1" && (int)o["round"]! == (int)r["round"]!) is { } one
                    ? (double)one["seconds"]! / (double)r["seconds"]! : double.NaN).ToList();
                var loads = rows.SelectMany(r => new[] { (double)r["load1_before"]!, (double)r["load1_after"]! }).ToList();
                md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {kind} | {way} | {rows[0]["workers"]} | {Median(seconds):F2} | {seconds.Min():F2}–{seconds.Max():F2} | {Median(rows.Select(r => (double)r["cpu_seconds"]!)):F2} | {count / Median(seconds):F0} | {(ratios.Any(double.IsNaN) ? "" : Median(ratios).ToString("F2", CultureInfo.InvariantCulture))} | {loads.Min():F1}–{loads.Max():F1} |"));
            }
        ResultFile.Write($"data_scale_read_{count}x{size}", ResultFile.Command(raw), machine, started, new { images = count, size, rounds, cores_available = cores, results }, md.ToString());
        Console.WriteLine(md);
        return 0;
    }

    /// <summary>Floats exist only where ML.NET decodes; the pixel cache never keeps pixel vectors.</summary>
    static bool Applies(string way, Source source) => way is not ("floats" or "cache") || source.Image.Kind != ImageColumnKind.Pixels;

    /// <summary>CPU seconds per wall second of one busy thread per core for 1 s: the cores a parallel read can get now.</summary>
    static double CoresAvailable()
    {
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var threads = Enumerable.Range(0, Environment.ProcessorCount).Select(_ => new Thread(() =>
        {
            while (clock.ElapsedMilliseconds < 1000) { }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        double wall = clock.Elapsed.TotalSeconds;
        process.Refresh();
        return (process.TotalProcessorTime - cpu).TotalSeconds / wall;
    }

    static Dictionary<string, object?> Measure(MLContext ml, Source source, int size, string way)
    {
        int? workers = way switch
        {
            "floats" or "1" => 1,
            "auto" or "cache" => null,
            _ => int.Parse(way, CultureInfo.InvariantCulture),
        };
        var (view, column) = way == "floats"
            ? (source.Pixels.Transform(source.Data), PixelPipeline.PixelsColumn)
            : PixelPipeline.ForTraining(ml, source.Pixels, source.Data, source.Image);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var load = MachineInfo.LoadAverageNow();
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        using var buffer = new PixelBuffer(3 * size * size, PixelBuffer.DefaultSpillBytes);
        ImageTensorDataset data;
        long[] labels;
        string where;
        if (way == "cache")
        {
            var log = new List<string>();
            var cache = new PixelCache(Repo.Out("data-scale-read", "cache"));
            (data, int _) = ReadData.Read(ml, source.Pixels, source.Data, source.Image, source.Label, size, skipUnreadable: false, () => { }, log.Add,
                "training data", requireTwoClasses: false, cache: cache);
            labels = data.Labels.data<long>().ToArray();
            where = log.Any(l => l.Contains("come from the pixel cache")) ? "pixel cache (hit)" : "pixel cache (written)";
        }
        else
        {
            var rows = ImageRows.Read(view, column, source.Label, size, source.Image.Name, skipUnreadable: false, () => { }, buffer, workers);
            data = buffer.ToDataset(rows.Labels, size, source.Label.ClassCount);
            labels = rows.Labels;
            where = buffer.OnDisk ? "mapped file" : "memory";
        }
        using var dataset = data;
        double seconds = clock.Elapsed.TotalSeconds;
        process.Refresh();
        double cpuSeconds = (process.TotalProcessorTime - cpu).TotalSeconds;
        var loadAfter = MachineInfo.LoadAverageNow();
        return new()
        {
            ["kind"] = source.Kind,
            ["way"] = way,
            ["workers"] = workers?.ToString(CultureInfo.InvariantCulture) ?? $"auto ({Math.Min(Environment.ProcessorCount, ImageRows.MaxWorkers)})",
            ["images"] = labels.Length,
            ["seconds"] = seconds,
            ["cpu_seconds"] = cpuSeconds,
            ["where"] = where,
            ["load_before"] = string.Join(" / ", load),
            ["load_after"] = string.Join(" / ", loadAfter),
            ["load1_before"] = load.FirstOrDefault(),
            ["load1_after"] = loadAfter.FirstOrDefault(),
            ["sha256"] = Hash(data.Images.data<byte>().ToArray(), labels),
        };
    }

    static Source Open(MLContext ml, GreyImageSet set, int count, int size, string kind)
    {
        IDataView raw;
        switch (kind)
        {
            case "pixels":
                var schema = SchemaDefinition.Create(typeof(PixelRow));
                schema["Image"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 1, set.Side, set.Side);
                raw = ml.Data.LoadFromEnumerable(Enumerable.Range(0, count).Select(i => new PixelRow
                {
                    Image = set.Image(i % set.Count).ToArray().Select(b => (float)b).ToArray(),
                    Label = set.ClassNames[set.Labels[i % set.Count]],
                }).ToList(), schema);
                break;
            case "png":
                raw = ml.Data.LoadFromEnumerable(Enumerable.Range(0, count).Select(i => new PngRow
                {
                    Image = Png(set, i % set.Count),
                    Label = set.ClassNames[set.Labels[i % set.Count]],
                }).ToList());
                break;
            case "files":
                string folder = Repo.Out("data-scale-read", "png");
                Directory.CreateDirectory(folder);
                var files = Enumerable.Range(0, count).Select(i =>
                {
                    string path = Path.Combine(folder, $"{i % set.Count:D5}.png");
                    if (!File.Exists(path)) File.WriteAllBytes(path, Png(set, i % set.Count));
                    return new FileRow { Path = Path.GetFullPath(path), Label = set.ClassNames[set.Labels[i % set.Count]] };
                }).ToList();
                var paths = ml.Data.LoadFromEnumerable(files);
                // Absolute paths, as ws train gives them: the pixel cache keys files by path, length and write time.
                raw = ml.Transforms.LoadImages("Image", imageFolder: null, "Path").Fit(paths).Transform(paths);
                break;
            default:
                throw new ArgumentException($"--kinds takes pixels, png and files; got '{kind}'.");
        }
        var data = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Fit(raw).Transform(raw);
        var image = ImageColumn.Inspect(data.Schema, "Image");
        var label = LabelColumn.Inspect(data.Schema, "Label");
        return new Source(kind, data, image, label, PixelPipeline.Build(ml, image, size).Steps.Fit(data));
    }

    static byte[] Png(GreyImageSet set, int row)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(set.Side, set.Side, SKColorType.Gray8, SKAlphaType.Opaque));
        if (bitmap.RowBytes != set.Side) throw new InvalidOperationException($"Expected {set.Side} bytes per row of a grey bitmap; got {bitmap.RowBytes}.");
        set.Image(row).CopyTo(bitmap.GetPixelSpan());
        using var encoded = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return encoded.ToArray();
    }

    static string Hash(byte[] pixels, long[] labels)
    {
        using var sha = SHA256.Create();
        sha.TransformBlock(pixels, 0, pixels.Length, null, 0);
        var labelBytes = labels.SelectMany(BitConverter.GetBytes).ToArray();
        sha.TransformFinalBlock(labelBytes, 0, labelBytes.Length);
        return Convert.ToHexString(sha.Hash!);
    }

    static double Median(IEnumerable<double> values)
    {
        var v = values.OrderBy(x => x).ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}

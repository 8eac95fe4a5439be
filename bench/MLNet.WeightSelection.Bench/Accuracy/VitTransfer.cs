using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.WeightSelection.Bench.Infra;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Selection;
using MLNet.WeightSelection.Training;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Bench.Accuracy;

/// <summary>
/// Issue 6, section 4, the ViT transfer experiment:
/// <c>vit-transfer --teacher-embed 192 [--sizes 250,1000] [--depths 12,6] [--seeds 1,2] [--epochs 250:100,1000:50] [--methods ws,random,new-ws,new-ws-noadapt,new-random] [--aa none|rand-…]</c>.
/// Students of half the teacher's width (3 heads) at depth 12 and 6 (first-N layer selection) learn Fashion-MNIST
/// classes 5–9 from 250 or 1,000 training images, initialized by weight selection from the teacher pretrained on
/// classes 0–4 (<c>vit-pretrain</c>) or randomly, with the same recipe. After every epoch they are validated on a fixed
/// class-balanced 1,000 of the 5,000 test images of classes 5–9 (the curves); the final model is tested on all 5,000.
/// <c>--probe</c> adds the linear-probe accuracy of both initializations (the paper's Table 9) through
/// <see cref="WeightSelectionLinearProbe"/>. The <c>new-*</c> methods train through <c>Fit</c> on the fitted recipe
/// instead (<see cref="VitTransferFitted"/>; issue 13), with the RandAugment the recipe fits unless <c>--aa</c> sets one
/// (<c>none</c>: off); their keys name the RandAugment they ran with. Runs are stored as they end and skipped when repeated.
/// </summary>
static class VitTransfer
{
    const int Classes = 5;
    const int CurveImages = 1000;
    const int FittedMaxSize = 1000;
    const int FittedMaxSeed = 9;

    public static int Run(Args args, string[] raw)
    {
        int teacherEmbed = args.Int("teacher-embed", 192);
        int studentEmbed = args.Int("student-embed", teacherEmbed / 2);
        var sizes = args.Ints("sizes", "250,1000");
        var depths = args.Ints("depths", "12,6");
        var seeds = args.Ints("seeds", "1,2");
        var methods = args.List("methods", "ws,random");
        var epochRule = args.List("epochs", "250:100,1000:50")
            .Select(s => s.Split(':')).ToDictionary(p => int.Parse(p[0], CultureInfo.InvariantCulture), p => int.Parse(p[1], CultureInfo.InvariantCulture));
        string? randAugment = args.Optional("aa");
        bool probe = args.Flag("probe");
        int threads = args.Int("threads", Environment.ProcessorCount);
        args.EnsureAllUsed();
        var machine = MachineInfo.Current();
        var started = DateTime.UtcNow;
        string name = $"vit_transfer_t{teacherEmbed}_s{studentEmbed}";
        var store = new RunStore(name);

        string teacherPath = VitSetup.TeacherWeights(teacherEmbed);
        if (!File.Exists(teacherPath))
            throw new FileNotFoundException($"No teacher at {teacherPath}: run `bench/bench.sh vit-pretrain --embed {teacherEmbed}` first.", teacherPath);
        var teacherSpec = ModelSpec.FromJson(File.ReadAllText(VitSetup.TeacherSpecFile(teacherEmbed)));

        var trainSet = FashionMnist.Train();
        var testSet = FashionMnist.Test();
        var trainRows = trainSet.Rows(VitSetup.StudentClasses);
        var testRows = testSet.Rows(VitSetup.StudentClasses);
        using var test = testSet.ToDataset(testRows, Classes);
        using var curve = testSet.ToDataset(FashionMnist.Balanced(testRows, CurveImages / Classes, seed: 0), Classes);
        using var teacher = SafeTensorsFile.Open(teacherPath);
        // The fitted runs' validation rows stay the same whatever this command's sizes and seeds: they avoid every
        // subset of up to FittedMaxSize images for seeds 1 to FittedMaxSeed.
        if (methods.Any(VitTransferFitted.Methods.Contains) && (sizes.Max() > FittedMaxSize || seeds.Max() > FittedMaxSeed))
            throw new ArgumentException($"The fitted methods validate on images outside every subset of up to {FittedMaxSize} images for seeds 1–{FittedMaxSeed}; got sizes {string.Join(",", sizes)} and seeds {string.Join(",", seeds)}.");
        var validationRows = new Lazy<IReadOnlyList<(int Row, int Label)>>(() => VitTransferFitted.ValidationRows(trainRows,
            Enumerable.Range(1, FittedMaxSeed).SelectMany(s => FashionMnist.Balanced(trainRows, FittedMaxSize / Classes, s)), Classes));

        foreach (int size in sizes)
        foreach (int depth in depths)
        foreach (int seed in seeds)
        {
            var subset = FashionMnist.Balanced(trainRows, size / Classes, seed);
            int epochs = epochRule.TryGetValue(size, out var e) ? e : throw new ArgumentException($"--epochs has no rule for {size} images.");
            foreach (var method in methods)
            {
                bool fitted = VitTransferFitted.Methods.Contains(method);
                string aa = randAugment ?? VitTransferFitted.FittedRandAugment(size, Classes);
                string key = fitted ? $"{method}|{size}|d{depth}|{seed}|fit|aa={aa}" : $"{method}|{size}|d{depth}|{seed}|{epochs}";
                if (store.Has(key)) { Console.Error.WriteLine($"Already done: {key}"); continue; }
                Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {name} {key} (load {string.Join(" / ", MachineInfo.LoadAverageNow())}) ...");
                store.Append(key, fitted
                    ? VitTransferFitted.Train(method, aa, randAugment is not null, teacherPath, teacherSpec, studentEmbed, depth, trainSet, subset, validationRows.Value, testSet, testRows, Classes, size, seed, threads)
                    : Train(method, teacher, studentEmbed, depth, trainSet, subset, curve, test, size, seed, epochs, threads));
            }
        }

        if (probe)
        {
            var probeStore = new RunStore(name + "_probe");
            int probeSize = sizes.Max();
            foreach (int depth in depths)
            foreach (int seed in seeds)
            foreach (var method in methods)
            {
                string key = $"probe|{method}|{probeSize}|d{depth}|{seed}";
                if (probeStore.Has(key)) continue;
                Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {key} ...");
                var subset = FashionMnist.Balanced(trainRows, probeSize / Classes, seed);
                probeStore.Append(key, LinearProbe(method, teacherPath, teacherSpec, studentEmbed, depth, trainSet, subset, testSet, testRows, seed));
            }
        }
        WriteSummary(name, store, new RunStore(name + "_probe"), raw, machine, started, teacherEmbed, studentEmbed);
        return 0;
    }

    static ImageClassifier Student(int embed, int depth, int seed)
    {
        manual_seed(seed);
        var model = VitSetup.Spec(embed, depth, Classes, dropPath: 0.1).CreateModel();
        Guard.Finite(model, "the student's initialization");
        return model;
    }

    static object Train(string method, SafeTensorsFile teacher, int embed, int depth, FashionMnist trainSet, IReadOnlyList<(int Row, int Label)> subset,
        ImageTensorDataset curve, ImageTensorDataset test, int size, int seed, int epochs, int threads)
    {
        using var train = trainSet.ToDataset(subset, Classes);
        using var student = Student(embed, depth, seed);
        if (method == "ws") WeightSelector.SelectInto(teacher, student, options: new SelectionOptions { ClassifierKeys = student.ClassifierKeys });
        else if (method != "random") throw new ArgumentException($"Unknown method '{method}'; use ws or random.");
        Guard.Finite(student, $"{method} student");
        var options = new TrainingOptions { Epochs = epochs, Seed = seed, Threads = threads };
        var clock = Stopwatch.StartNew();
        var result = new ImageClassifierTrainer(options).Train(student, train, curve, onEpoch: m =>
        {
            if (m.Epoch % 10 == 0 || m.Epoch == epochs) Console.Error.WriteLine($"    {m}");
        });
        double seconds = clock.Elapsed.TotalSeconds;
        var final = ImageClassifierTrainer.Evaluate(student, test);
        Console.Error.WriteLine($"  -> test accuracy on {test.Count} images: {final.Accuracy:P2} ({seconds:F0} s)");
        return new
        {
            method, size, depth, seed, epochs, embed, heads = VitSetup.Heads, threads,
            parameters = student.parameters().Sum(p => p.numel()),
            recipe = new { options.BatchSize, options.LearningRate, options.WeightDecay, options.WarmupEpochs, options.LabelSmoothing, drop_path = 0.1, augmentation = options.Augmentation.ToString() },
            test_images = test.Count,
            test_accuracy = final.Accuracy,
            curve_images = curve.Count,
            curve = result.History.Select(h => h.ValidationAccuracy).ToArray(),
            train_loss = result.History.Select(h => h.TrainLoss).ToArray(),
            train_seconds = seconds,
            median_images_per_second = Stats.Median(result.History.Select(h => h.ImagesPerSecond)),
        };
    }

    /// <summary>The library's linear probe (frozen student features → LbfgsMaximumEntropy) through ML.NET data views of planar pixels.</summary>
    static object LinearProbe(string method, string teacherPath, ModelSpec teacherSpec, int embed, int depth, FashionMnist trainSet,
        IReadOnlyList<(int Row, int Label)> subset, FashionMnist testSet, IReadOnlyList<(int Row, int Label)> testRows, int seed)
    {
        var ml = new MLContext(seed: seed);
        IDataView View(FashionMnist data, IReadOnlyList<(int Row, int Label)> rows) => VitTransferFitted.View(ml, data, rows, Classes);
        // Labels as users have them (class names), keyed by one MapValueToKey fitted on the training rows.
        var trainView = View(trainSet, subset);
        var keys = ml.Transforms.Conversion.MapValueToKey("Label").Fit(trainView);
        var clock = Stopwatch.StartNew();
        var result = WeightSelectionLinearProbe.Evaluate(ml, keys.Transform(trainView), keys.Transform(View(testSet, testRows)), new WeightSelectionOptions
        {
            Teacher = global::MLNet.WeightSelection.Teacher.FromFile(teacherPath, teacherSpec),
            Student = VitSetup.Spec(embed, depth, Classes, dropPath: 0.1),
            ImageSize = VitSetup.ImageSize,
            Seed = seed,
            Initialization = method == "ws" ? Initialization.WeightSelection : Initialization.Random,
        });
        Console.Error.WriteLine($"  -> linear probe {method} depth {depth} seed {seed}: {result.Accuracy:P2}");
        return new { method, depth, seed, train_images = subset.Count, test_images = testRows.Count, accuracy = result.Accuracy, features = result.FeatureCount, seconds = clock.Elapsed.TotalSeconds };
    }

    /// <summary>
    /// The fitted recipe's table: the three fitted methods side by side with the earlier defaults of the same student and
    /// size, and how many epochs weight selection needs to reach random init's final validation accuracy under the same
    /// recipe: without adaptation (the default for a teacher made for the training size, since 2026-12-07) and with it.
    /// </summary>
    static List<object> FittedTable(StringBuilder md, IReadOnlyList<JsonObject> fitted, IReadOnlyList<JsonObject> earlier, int studentEmbed)
    {
        md.AppendLine();
        md.AppendLine("Under the library's fitted recipe, through `Fit` (issue 13): new-ws is teacher adaptation, selection from the adapted teacher and logit distillation (the defaults until 2026-12-07; set explicitly since), new-ws-noadapt weight selection alone (the default for this 32 px teacher since 2026-12-07), new-random random init; " +
            "validation is 500 training-pool images outside every subset. \"Epochs to reach\": first epoch at which a weight-selection run's validation curve reaches new-random's final validation accuracy, same seed; mean over seeds [per seed]. " +
            "RandAugment: what the runs trained with (none for the runs stored before it existed), \"(default)\" marking what the defaults fit for these students. " +
            "The earlier defaults' columns repeat the table above.");
        md.AppendLine();
        md.AppendLine("| student | training images | RandAugment | fitted epochs | new-random | new-ws-noadapt | new-ws (adapted, distilled) | Δ default (new-ws-noadapt) − random | earlier random | earlier ws | epochs for new-ws-noadapt to reach new-random's final | epochs for new-ws to reach it | fit time new-random / new-ws-noadapt / new-ws (s) | seeds |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        var rows = new List<object>();
        // Runs stored before the recipe fitted RandAugment carry aa=none; each RandAugment setting gets its own row.
        foreach (var group in fitted.GroupBy(r => ((int)r["depth"]!, (int)r["size"]!, (string?)r["aa"] ?? "none"))
                     .OrderByDescending(g => g.Key.Item1).ThenBy(g => g.Key.Item2).ThenBy(g => g.Key.Item3, StringComparer.Ordinal))
        {
            var (depth, size, aa) = group.Key;
            List<double> Acc(IEnumerable<JsonObject> set, string m) => set.Where(r => (string)r["method"]! == m).OrderBy(r => (int)r["seed"]!).Select(r => 100 * (double)r["test_accuracy"]!).ToList();
            string F(List<double> v) => v.Count == 0 ? "not run" : string.Create(CultureInfo.InvariantCulture, $"{Stats.Mean(v):F2} ± {Stats.Std(v):F2}");
            var random = Acc(group, "new-random");
            var noadapt = Acc(group, "new-ws-noadapt");
            var ws = Acc(group, "new-ws");
            var sameEarlier = earlier.Where(r => (int)r["depth"]! == depth && (int)r["size"]! == size).ToList();
            List<double> Reach(string method)
            {
                var reach = new List<double>();
                foreach (var seed in group.Select(r => (int)r["seed"]!).Distinct().Order())
                {
                    var r = group.FirstOrDefault(x => (string)x["method"]! == "new-random" && (int)x["seed"]! == seed);
                    var w = group.FirstOrDefault(x => (string)x["method"]! == method && (int)x["seed"]! == seed);
                    if (r is null || w is null) continue;
                    double target = (double)r["curve"]!.AsArray()[^1]!;
                    int first = w["curve"]!.AsArray().Select(v => (double)v!).ToList().FindIndex(v => v >= target);
                    reach.Add(first < 0 ? double.NaN : first + 1);
                }
                return reach;
            }
            var reachDefault = Reach("new-ws-noadapt");
            var reachAdapted = Reach("new-ws");
            string Seconds(string m) => group.Where(r => (string)r["method"]! == m).Select(r => (double)r["fit_seconds"]!).DefaultIfEmpty(double.NaN).Average() is var v && double.IsNaN(v) ? "–" : v.ToString("F0", CultureInfo.InvariantCulture);
            int epochs = group.Select(r => (int)r["epochs"]!).Max();
            string delta = random.Count > 0 && noadapt.Count > 0 ? string.Create(CultureInfo.InvariantCulture, $"{Stats.Mean(noadapt) - Stats.Mean(random):+0.00;-0.00}") : "–";
            string ReachText(List<double> reach) => reach.Count == 0 ? "–" : reach.Any(double.IsNaN) ? $"not reached in {reach.Count(double.IsNaN)} of {reach.Count} seeds" :
                string.Create(CultureInfo.InvariantCulture, $"{Stats.Mean(reach):F0} of {epochs} ({Stats.Mean(reach) / epochs:P0}) [{string.Join(", ", reach)}]");
            md.AppendLine($"| ViT e{studentEmbed} depth {depth} | {size:N0} | {aa}{(aa == VitTransferFitted.FittedRandAugment(size, Classes) ? " (default)" : "")} | {epochs} | {F(random)} | {F(noadapt)} | {F(ws)} | {delta} | {F(Acc(sameEarlier, "random"))} | {F(Acc(sameEarlier, "ws"))} | {ReachText(reachDefault)} | {ReachText(reachAdapted)} | {Seconds("new-random")} / {Seconds("new-ws-noadapt")} / {Seconds("new-ws")} | {group.Select(r => (int)r["seed"]!).Distinct().Count()} |");
            rows.Add(new { depth, size, aa, epochs, random, noadapt, ws, reach_default = reachDefault, reach_adapted = reachAdapted });
        }
        return rows;
    }

    static void WriteSummary(string name, RunStore store, RunStore probes, string[] raw, MachineInfo machine, DateTime started, int teacherEmbed, int studentEmbed)
    {
        var all = store.All();
        var runs = all.Where(r => !VitTransferFitted.Methods.Contains((string)r["method"]!)).ToList();
        var md = new StringBuilder();
        md.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"ViT transfer on Fashion-MNIST: teacher ViT/4 embed {teacherEmbed}, depth 12, pretrained on classes 0–4; students embed {studentEmbed}, {VitSetup.Heads} heads, learn classes 5–9. ") +
            "Test accuracy on all 5,000 test images of classes 5–9, mean ± sample std over seeds. \"Epochs to reach\": first epoch at which weight selection's curve (1,000 test images) reaches random init's final accuracy on the same images; mean over seeds.");
        md.AppendLine();
        md.AppendLine("| student | training images | epochs | random init | weight selection | Δ | epochs for WS to reach random's final | seeds |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        var summary = new List<object>();
        foreach (var group in runs.GroupBy(r => ((int)r["depth"]!, (int)r["size"]!, (int)r["epochs"]!)).OrderByDescending(g => g.Key.Item1).ThenBy(g => g.Key.Item2))
        {
            var (depth, size, epochs) = group.Key;
            List<double> Acc(string m) => group.Where(r => (string)r["method"]! == m).OrderBy(r => (int)r["seed"]!).Select(r => 100 * (double)r["test_accuracy"]!).ToList();
            var random = Acc("random");
            var ws = Acc("ws");
            var reach = new List<double>();
            foreach (var seed in group.Select(r => (int)r["seed"]!).Distinct())
            {
                var r = group.FirstOrDefault(x => (string)x["method"]! == "random" && (int)x["seed"]! == seed);
                var w = group.FirstOrDefault(x => (string)x["method"]! == "ws" && (int)x["seed"]! == seed);
                if (r is null || w is null) continue;
                double target = (double)r["curve"]!.AsArray()[^1]!;
                var curve = w["curve"]!.AsArray().Select(v => (double)v!).ToList();
                int first = curve.FindIndex(v => v >= target);
                reach.Add(first < 0 ? double.NaN : first + 1);
            }
            string F(List<double> v) => v.Count == 0 ? "not run" : string.Create(CultureInfo.InvariantCulture, $"{Stats.Mean(v):F2} ± {Stats.Std(v):F2}");
            string delta = random.Count > 0 && ws.Count > 0 ? string.Create(CultureInfo.InvariantCulture, $"{Stats.Mean(ws) - Stats.Mean(random):+0.00;-0.00}") : "–";
            string reachText = reach.Count == 0 ? "–" : reach.Any(double.IsNaN) ? $"not reached in {reach.Count(double.IsNaN)} of {reach.Count} seeds" :
                string.Create(CultureInfo.InvariantCulture, $"{Stats.Mean(reach):F0} of {epochs} ({Stats.Mean(reach) / epochs:P0}) [{string.Join(", ", reach)}]");
            md.AppendLine($"| ViT e{studentEmbed} depth {depth} | {size:N0} | {epochs} | {F(random)} | {F(ws)} | {delta} | {reachText} | {group.Select(r => (int)r["seed"]!).Distinct().Count()} |");
            summary.Add(new { depth, size, epochs, random, ws, reach });
        }
        var fitted = all.Where(r => VitTransferFitted.Methods.Contains((string)r["method"]!)).ToList();
        if (fitted.Count > 0) summary.Add(new { fitted = FittedTable(md, fitted, runs, studentEmbed) });
        var probeRuns = probes.All();
        if (probeRuns.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("Linear probe (frozen student, pooled features → NormalizeMeanVariance → LbfgsMaximumEntropy; trained on the largest training subset, tested on all 5,000 test images of classes 5–9):");
            md.AppendLine();
            md.AppendLine("| student | random init | weight selection | seeds |");
            md.AppendLine("|---|---|---|---|");
            foreach (var g in probeRuns.GroupBy(r => (int)r["depth"]!).OrderByDescending(g => g.Key))
            {
                string P(string m) { var v = g.Where(r => (string)r["method"]! == m).Select(r => 100 * (double)r["accuracy"]!).ToList(); return v.Count == 0 ? "not run" : string.Create(CultureInfo.InvariantCulture, $"{Stats.Mean(v):F2} ± {Stats.Std(v):F2}"); }
                md.AppendLine($"| ViT e{studentEmbed} depth {g.Key} | {P("random")} | {P("ws")} | {g.Select(r => (int)r["seed"]!).Distinct().Count()} |");
            }
        }
        md.AppendLine();
        md.AppendLine("Per-epoch curves (accuracy on the 1,000 curve images, every 5th epoch and the last):");
        md.AppendLine();
        foreach (var r in all.OrderByDescending(r => (int)r["depth"]!).ThenBy(r => (int)r["size"]!).ThenBy(r => (int)r["seed"]!).ThenBy(r => (string)r["method"]!))
        {
            var c = r["curve"]!.AsArray().Select(v => (double)v!).ToList();
            var shown = c.Select((v, i) => (v, i)).Where(p => (p.i + 1) % 5 == 0 || p.i == c.Count - 1 || p.i == 0)
                .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.i + 1}:{100 * p.v:F1}"));
            md.AppendLine($"- depth {r["depth"]}, {r["size"]} images, seed {r["seed"]}, {r["method"]}: {string.Join(" ", shown)}");
        }
        md.AppendLine();
        md.AppendLine("Curves of the earlier defaults are on the 1,000 curve test images; curves of the fitted recipe on its 500 validation images (the better of the live and EMA weights).");
        ResultFile.Write(name, ResultFile.Command(raw), machine, started,
            new { runs_file = Path.GetRelativePath(Repo.Root, store.Path), probes_file = Path.GetRelativePath(Repo.Root, probes.Path), summary = summary.Select(s => ResultFile.Serialize(s)).ToList() }, md.ToString());
    }
}

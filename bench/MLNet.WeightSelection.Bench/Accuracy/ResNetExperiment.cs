using System.Diagnostics;
using System.Globalization;
using System.Text;
using MLNet.WeightSelection.Bench.Infra;
using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Selection;
using MLNet.WeightSelection.Training;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Bench.Accuracy;

/// <summary>
/// Issue 6, section 4, first part: <c>fmnist-resnet [--sizes 1000,5000] [--seeds 1,2] [--methods ws,random,featurizer]</c>.
/// A half-width ResNet-18 (resnet18_half) learns Fashion-MNIST (32 px, padded) from class-balanced training subsets
/// and is tested on all 10,000 test images, three ways: weight selection from ML.NET's ImageNet ResNet-18 (ONNX
/// import; the student inherits the teacher's input convention: BGR, 0–255, minus the mean), random initialization
/// with the same recipe and input convention, and the ResNet-18 featurizer + LbfgsMaximumEntropy. Every run is stored
/// when it ends (bench/results/fmnist_resnet.runs.jsonl) and skipped when the command is run again.
/// </summary>
static class ResNetExperiment
{
    const string Student = "resnet18_half";
    const int Classes = 10;

    public static int Run(Args args, string[] raw)
    {
        var sizes = args.Ints("sizes", "1000,5000");
        var seeds = args.Ints("seeds", "1,2");
        var methods = args.List("methods", "ws,random,featurizer");
        var epochRule = args.List("epochs", "1000:60,5000:30,60000:10")
            .Select(s => s.Split(':')).ToDictionary(p => int.Parse(p[0], CultureInfo.InvariantCulture), p => int.Parse(p[1], CultureInfo.InvariantCulture));
        int threads = args.Int("threads", Environment.ProcessorCount);
        args.EnsureAllUsed();
        var machine = MachineInfo.Current();
        var started = DateTime.UtcNow;
        var store = new RunStore("fmnist_resnet");

        var trainSet = FashionMnist.Train();
        var testSet = FashionMnist.Test();
        var allTrain = trainSet.Rows();
        var testRows = testSet.Rows();
        using var test = testSet.ToDataset(testRows, Classes);
        using var import = ResNetTeacher.Import();
        Console.Error.WriteLine($"Teacher: {import.Source}: {import.Spec.ToJson(indented: false)}; input {import.Input} ({import.InputSource}).");

        foreach (int size in sizes)
        foreach (int seed in seeds)
        {
            var subset = FashionMnist.Balanced(allTrain, size / Classes, seed);
            foreach (var method in methods)
            {
                int epochs = epochRule.TryGetValue(size, out var e) ? e : throw new ArgumentException($"--epochs has no rule for {size} images.");
                string key = method == "featurizer" ? $"featurizer|{size}|{seed}" : $"{method}|{size}|{seed}|{epochs}|{Recipe(epochs, threads)}";
                if (store.Has(key)) { Console.Error.WriteLine($"Already done: {key}"); continue; }
                Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {key} (load {string.Join(" / ", MachineInfo.LoadAverageNow())}) ...");
                object run = method switch
                {
                    "featurizer" => Featurizer(trainSet, testSet, subset, testRows, size, seed),
                    "ws" or "random" => Train(method, import, trainSet, subset, test, size, seed, epochs, threads),
                    _ => throw new ArgumentException($"Unknown method '{method}'; use ws, random or featurizer."),
                };
                store.Append(key, run);
            }
        }
        WriteSummary(store, raw, machine, started);
        return 0;
    }

    static string Recipe(int epochs, int threads) => new TrainingOptions { Epochs = epochs, Threads = threads }.Augmentation.ToString();

    static object Train(string method, OnnxResNetImport import, FashionMnist trainSet, IReadOnlyList<(int Row, int Label)> subset,
        Training.ImageTensorDataset test, int size, int seed, int epochs, int threads)
    {
        using var train = trainSet.ToDataset(subset, Classes);
        manual_seed(seed);
        using var student = ModelRegistry.Create(Student, numClasses: Classes, imgSize: 32);
        student.Input = import.Input; // same convention for both initializations: only the weights differ
        SelectionReport? report = null;
        if (method == "ws")
            report = WeightSelector.SelectInto(import.Weights, student, options: new SelectionOptions { ClassifierKeys = student.ClassifierKeys });
        Guard.Finite(student, $"{method} student");
        var options = new TrainingOptions { Epochs = epochs, Seed = seed, Threads = threads };
        var clock = Stopwatch.StartNew();
        var result = new ImageClassifierTrainer(options).Train(student, train, null,
            onEpoch: m => Console.Error.WriteLine($"    {m}"));
        double trainSeconds = clock.Elapsed.TotalSeconds;
        var metrics = ImageClassifierTrainer.Evaluate(student, test);
        Console.Error.WriteLine($"  -> test accuracy {metrics.Accuracy:P2}");
        return new
        {
            method, size, seed, epochs, student = Student, threads,
            recipe = new { options.BatchSize, options.LearningRate, options.WeightDecay, options.WarmupEpochs, options.LabelSmoothing, augmentation = options.Augmentation.ToString() },
            input = import.Input.ToString(),
            selected_tensors = report?.Rows.Count,
            test_images = test.Count,
            test_accuracy = metrics.Accuracy,
            test_top5 = metrics.Top5Accuracy,
            train_seconds = trainSeconds,
            median_images_per_second = Stats.Median(result.History.Select(h => h.ImagesPerSecond)),
            median_data_share = Stats.Median(result.History.Select(h => h.DataShare)),
            train_loss = result.History.Select(h => h.TrainLoss).ToArray(),
        };
    }

    static object Featurizer(FashionMnist trainSet, FashionMnist testSet, IReadOnlyList<(int Row, int Label)> subset,
        IReadOnlyList<(int Row, int Label)> testRows, int size, int seed) =>
        new FeaturizerBaseline().Run(GreyImageSet.From(trainSet, "train"), "train", GreyImageSet.From(testSet, "test"), "test", "fmnist-featurizer",
            subset, testRows, Classes, size, seed);

    static void WriteSummary(RunStore store, string[] raw, MachineInfo machine, DateTime started)
    {
        var runs = store.All();
        var md = new StringBuilder();
        md.AppendLine("Fashion-MNIST test accuracy (all 10,000 test images), half-width ResNet-18 at 32 px; mean ± sample std over seeds (n = seeds).");
        md.AppendLine();
        md.AppendLine("| training images | epochs | random init | weight selection (ImageNet ResNet-18) | Δ | ResNet-18 featurizer + LbfgsMaximumEntropy |");
        md.AppendLine("|---|---|---|---|---|---|");
        var summary = new List<object>();
        foreach (var size in runs.Select(r => (int)r["size"]!).Distinct().Order())
        {
            (double Mean, double Std, int N) Acc(string method) {
                var v = runs.Where(r => (int)r["size"]! == size && (string)r["method"]! == method).Select(r => 100 * (double)r["test_accuracy"]!).ToList();
                return (Stats.Mean(v), Stats.Std(v), v.Count);
            }
            var epochs = runs.Where(r => (int)r["size"]! == size && r["epochs"] is not null).Select(r => (int)r["epochs"]!).Distinct().ToList();
            var random = Acc("random");
            var ws = Acc("ws");
            var feat = Acc("featurizer");
            string F((double Mean, double Std, int N) a) => a.N == 0 ? "not run" : string.Create(CultureInfo.InvariantCulture, $"{a.Mean:F2} ± {a.Std:F2} (n={a.N})");
            string delta = random.N > 0 && ws.N > 0 ? string.Create(CultureInfo.InvariantCulture, $"{ws.Mean - random.Mean:+0.00;-0.00}") : "–";
            md.AppendLine($"| {size:N0} | {string.Join("/", epochs)} | {F(random)} | {F(ws)} | {delta} | {F(feat)} |");
            summary.Add(new { size, epochs, random, ws, featurizer = feat });
        }
        ResultFile.Write("fmnist_resnet", ResultFile.Command(raw), machine, started,
            new { runs_file = Path.GetRelativePath(Repo.Root, store.Path), summary = summary.Select(s => ResultFile.Serialize(s)).ToList() }, md.ToString());
    }
}

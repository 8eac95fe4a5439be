using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.WeightSelection.Bench.Inference;
using MLNet.WeightSelection.Bench.Infra;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Training;

namespace MLNet.WeightSelection.Bench.Accuracy;

/// <summary>
/// Issue 13: <c>fmnist-defaults [--sizes 1000,5000] [--seeds 1,2,3] [--methods new,new-adapt,new-noadapt,random,featurizer]</c>. The estimator
/// (<c>InitializeFromTeacher</c> → <c>Fit</c>, exactly what a user calls) on class-balanced Fashion-MNIST subsets (the
/// same subsets as <c>fmnist-resnet</c> for a seed), 28 px grey images as planar pixels, the ImageNet ResNet-18 from
/// ML.NET's package as the teacher, resnet18_half as the student, tested on all 10,000 test images through the fitted
/// ML.NET model. "new-adapt" is the library's defaults with teacher adaptation (and so logit distillation) set on,
/// "new-noadapt" with it set off; "new" is the library's defaults as they are, stored as whichever of the two the recipe
/// resolves to for the run's data (<see cref="TrainingRecipe.Adapts"/>), and the summary marks that one as the default;
/// "random" the defaults from random init. Options after the methods override single settings for
/// exploration (--image-size, --epochs, --batch, --lr, --adapt-epochs, --aa SPEC|none, --ema off, --distill off), and every
/// override is part of the run's key. The featurizer and the previous recipe are read from fmnist_resnet.runs.jsonl.
/// </summary>
static class DefaultsExperiment
{
    const string Student = "resnet18_half";
    static readonly ModelFamily StudentFamily = ModelFamilies.Get("resnet");
    const int Classes = 10;
    sealed class Row
    {
        public float[] Image { get; set; } = Array.Empty<float>();

        public string Label { get; set; } = "";
    }

    public static int Run(Args args, string[] raw)
    {
        var sizes = args.Ints("sizes", "1000,5000");
        var seeds = args.Ints("seeds", "1,2,3");
        var methods = args.List("methods", "new,new-noadapt");
        string dataName = args.Get("data", "fashion-mnist");
        var overrides = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in new[] { "image-size", "epochs", "batch", "lr", "adapt-epochs", "adapt-lr", "aa", "ema", "distill", "mix" })
            if (args.Optional(name) is { } v) overrides[name] = v;
        string tag = args.Get("tag", "");
        args.EnsureAllUsed();
        var machine = MachineInfo.Current();
        var started = DateTime.UtcNow;
        string storeName = dataName switch
        {
            "fashion-mnist" => "fmnist_defaults",
            "digits" => "digits_defaults",
            _ => throw new ArgumentException($"--data must be fashion-mnist or digits; got '{dataName}'."),
        };
        var store = new RunStore(storeName);
        GreyImageSet trainSet, testSet;
        if (dataName == "digits") trainSet = testSet = GreyImageSet.Digits();
        else (trainSet, testSet) = (GreyImageSet.From(FashionMnist.Train(), "train"), GreyImageSet.From(FashionMnist.Test(), "test"));
        string overrideKey = string.Join(",", overrides.Select(kv => $"{kv.Key}={kv.Value}"));

        foreach (int size in sizes)
        foreach (int seed in seeds)
        {
            var (subset, testRows) = dataName == "digits"
                ? trainSet.Split(size / Classes, seed)
                : (FashionMnist.Balanced(trainSet.Rows(), size / Classes, seed), testSet.Rows());
            foreach (var asked in methods)
            {
                string method = asked == "new" ? DefaultVariant(trainSet, size, overrides) : asked;
                string key = $"{method}|{size}|{seed}|{overrideKey}{(tag.Length > 0 ? "|" + tag : "")}";
                if (store.Has(key)) { Console.Error.WriteLine($"Already done: {key}"); continue; }
                Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {key} (load {string.Join(" / ", MachineInfo.LoadAverageNow())}) ...");
                store.Append(key, method == "featurizer"
                    ? Featurizer(storeName, trainSet, subset, testSet, testRows, size, seed)
                    : Train(method, overrides, trainSet, subset, testSet, testRows, size, seed));
            }
        }
        WriteSummary(store, storeName, raw, machine, started, trainSet);
        return 0;
    }

    /// <summary>What the library's defaults resolve to for a run: "new-adapt" when the recipe adapts the teacher, else "new-noadapt".</summary>
    static string DefaultVariant(GreyImageSet trainSet, int size, IReadOnlyDictionary<string, string> overrides)
    {
        if (overrides.ContainsKey("adapt-epochs") || overrides.ContainsKey("adapt-lr")) return "new-adapt";
        int imageSize = overrides.TryGetValue("image-size", out var s) ? int.Parse(s, CultureInfo.InvariantCulture) : FittedImageSize(trainSet);
        return TrainingRecipe.Adapts(Profile(size, imageSize)) ? "new-adapt" : "new-noadapt";
    }

    /// <summary>What the estimator's recipe knows about a run on <paramref name="size"/> rows at <paramref name="imageSize"/>.</summary>
    static DataProfile Profile(int size, int imageSize)
    {
        var (images, validation) = Split(size);
        return new DataProfile(images, validation, Classes, imageSize, SelectsFromTeacher: true, TeacherImageSize: ResNetTeacher.ImageSize, StudentFamily: StudentFamily);
    }

    /// <summary>
    /// The summary label of the stored runs that match the defaults at a size: the variant, with the RandAugment the
    /// recipe fits spelled out (the runs that measured it set it with --aa; runs from before it was fitted say aa=none).
    /// </summary>
    static string DefaultLabel(GreyImageSet trainSet, int size)
    {
        string variant = DefaultVariant(trainSet, size, new Dictionary<string, string>());
        var recipe = TrainingRecipe.Fit(new RecipeSettings(), Profile(size, FittedImageSize(trainSet)), seed: 0);
        return recipe.Student.Augmentation.RandAugment is null ? variant : $"{variant} aa={TrainingRecipe.FittedRandAugment}";
    }

    /// <summary>The estimator's split of the rows into training and validation images (a tenth held out).</summary>
    static (int Training, int Validation) Split(int size) => (size - size / 10, size / 10);

    static int FittedImageSize(GreyImageSet trainSet) => TrainingRecipe.ImageSize(null, trainSet.Side, ResNetTeacher.ImageSize, 8);

    /// <summary>The rows as planar 1×S×S pixels (0–255) and class names.</summary>
    static IDataView View(MLContext ml, GreyImageSet data, IReadOnlyList<(int Row, int Label)> rows)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema["Image"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 1, data.Side, data.Side);
        return ml.Data.LoadFromEnumerable(rows.Select(r => new Row
        {
            Image = data.Image(r.Row).ToArray().Select(b => (float)b).ToArray(),
            Label = data.ClassNames[r.Label],
        }).ToList(), schema);
    }

    static object Featurizer(string storeName, GreyImageSet trainSet, IReadOnlyList<(int Row, int Label)> subset,
        GreyImageSet testSet, IReadOnlyList<(int Row, int Label)> testRows, int size, int seed) =>
        new FeaturizerBaseline().Run(trainSet, "train", testSet, ReferenceEquals(trainSet, testSet) ? "train" : "test", storeName + "-featurizer",
            subset, testRows, Classes, size, seed);

    static object Train(string method, IReadOnlyDictionary<string, string> overrides, GreyImageSet trainSet, IReadOnlyList<(int Row, int Label)> subset,
        GreyImageSet testSet, IReadOnlyList<(int Row, int Label)> testRows, int size, int seed)
    {
        var ml = new MLContext(seed: seed);
        var log = new List<string>();
        ml.Log += (_, e) =>
        {
            if (!e.Message.Contains("InitializeFromTeacher", StringComparison.Ordinal) && !e.Message.Contains("AdaptTeacher", StringComparison.Ordinal)) return;
            Console.Error.WriteLine("    " + e.Message);
            log.Add(e.Message);
        };
        var options = new WeightSelectionOptions
        {
            Teacher = Teacher.FromOnnx(ResNetTeacher.OnnxPath),
            Student = Student,
            Seed = seed,
            Initialization = method == "random" ? Initialization.Random : Initialization.WeightSelection,
        };
        if (method == "new-noadapt") options.TeacherAdaptation = TeacherAdaptationOptions.Off;
        if (method == "new-adapt") options.TeacherAdaptation = new TeacherAdaptationOptions();
        string? O(string name) => overrides.TryGetValue(name, out var v) ? v : null;
        double D(string v) => double.Parse(v, CultureInfo.InvariantCulture);
        if (O("image-size") is { } s) options.ImageSize = int.Parse(s, CultureInfo.InvariantCulture);
        if (O("epochs") is { } e) options.Epochs = int.Parse(e, CultureInfo.InvariantCulture);
        if (O("batch") is { } b) options.BatchSize = int.Parse(b, CultureInfo.InvariantCulture);
        if (O("lr") is { } lr) options.LearningRate = D(lr);
        if (O("adapt-epochs") is { } ae && method != "new-noadapt")
            options.TeacherAdaptation = new TeacherAdaptationOptions { Epochs = int.Parse(ae, CultureInfo.InvariantCulture), LearningRate = O("adapt-lr") is { } al ? D(al) : null };
        if (O("ema") == "off") options.Ema = EmaOptions.Off;
        if (O("distill") == "off") options.Distillation = DistillationOptions.Off;
        if (O("aa") is { } aa || O("mix") is not null)
        {
            // Start from what the recipe would fit, then change only the named part.
            int images = Split(size).Training;
            int imageSize = options.ImageSize ?? FittedImageSize(trainSet);
            var a = TrainingRecipe.Augmentation(imageSize, images, Classes, StudentFamily);
            if (O("aa") is { } aaSpec) a.RandAugment = aaSpec == "none" ? null : RandAugmentOptions.Parse(aaSpec);
            if (O("mix") is { } mix)
            {
                var p = mix.Split(':').Select(D).ToArray(); // mixup:cutmix:prob
                a.MixupAlpha = p[0]; a.CutmixAlpha = p[1]; a.MixProbability = p[2];
            }
            options.Augmentation = a;
        }

        var train = View(ml, trainSet, subset);
        var test = View(ml, testSet, testRows);
        var keys = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(train);
        var clock = Stopwatch.StartNew();
        using var model = ml.Transforms.InitializeFromTeacher(options).Fit(keys.Transform(train));
        double fitSeconds = clock.Elapsed.TotalSeconds;
        if (method.StartsWith("new-", StringComparison.Ordinal) && (model.TeacherAdaptation is not null) != (method == "new-adapt"))
            throw new InvalidOperationException($"The {method} run {(model.TeacherAdaptation is null ? "did not adapt" : "adapted")} the teacher.");
        clock.Restart();
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(keys.Transform(test)), "Label");
        double testSeconds = clock.Elapsed.TotalSeconds;
        Console.Error.WriteLine($"  -> test accuracy {metrics.MicroAccuracy:P2} (fit {fitSeconds:F0} s)");
        var spec = (ResNetSpec)model.StudentSpec;
        var featurizer = (ResNetSpec)ModelRegistry.ResolveSpec("resnet18");
        double studentMacs = ResNetFlops.Forward(spec, spec.ImageSize, Classes) / 2e6;
        double featurizerMacs = ResNetFlops.Forward(featurizer, 224, 0) / 2e6;
        var history = model.History;
        return new
        {
            method, size, seed, overrides, student = Student,
            recipe = model.Recipe.Summary,
            choices = model.Recipe.Choices.Select(c => new { c.Name, c.Value, c.WasSet }).ToList(),
            image_size = spec.ImageSize,
            test_images = testRows.Count,
            test_accuracy = metrics.MicroAccuracy,
            test_log_loss = metrics.LogLoss,
            kept_ema = model.Training.KeptEma,
            best_epoch = model.Training.BestEpoch,
            fit_seconds = fitSeconds,
            test_seconds = testSeconds,
            student_mmacs_per_image = studentMacs,
            featurizer_mmacs_per_image = featurizerMacs,
            compute_ratio = featurizerMacs / studentMacs,
            teacher_adaptation = model.TeacherAdaptation is { } t ? new
            {
                epochs = t.History.Count,
                validation_accuracy = t.History.Select(h => h.ValidationAccuracy).ToArray(),
                seconds = t.History[^1].Elapsed.TotalSeconds,
            } : null,
            validation_accuracy = history.Select(h => h.ValidationAccuracy).ToArray(),
            ema_validation_accuracy = history.Select(h => h.EmaValidationAccuracy).ToArray(),
            train_loss = history.Select(h => h.TrainLoss).ToArray(),
            median_images_per_second = Stats.Median(history.Select(h => h.ImagesPerSecond)),
        };
    }

    static string Mean(IEnumerable<System.Text.Json.Nodes.JsonObject> runs, string field, string format)
    {
        var values = runs.Where(r => r[field] is not null).Select(r => (double)r[field]!).ToList();
        return values.Count == 0 ? "" : values.Average().ToString(format, CultureInfo.InvariantCulture);
    }

    static string Ratio(IEnumerable<System.Text.Json.Nodes.JsonObject> runs) => Mean(runs, "compute_ratio", "F0") is { Length: > 0 } r ? r + "×" : "";

    static void WriteSummary(RunStore store, string storeName, string[] raw, MachineInfo machine, DateTime started, GreyImageSet trainSet)
    {
        var runs = store.All();
        bool digits = storeName == "digits_defaults";
        var previous = digits ? new List<System.Text.Json.Nodes.JsonObject>() : new RunStore("fmnist_resnet").All();
        var md = new StringBuilder();
        md.AppendLine(digits
            ? "scikit-learn digits (8×8 scans; the rows not trained on are the test set), resnet18_half through `Fit` with the ImageNet ResNet-18 teacher; mean ± sample std over seeds (n)."
            : "Fashion-MNIST test accuracy (all 10,000 test images), resnet18_half through `Fit` with the ImageNet ResNet-18 teacher; mean ± sample std over seeds (n).");
        md.AppendLine(digits
            ? "The featurizer is ResNet-18 at 224 px + LbfgsMaximumEntropy on the same training and test rows."
            : "\"previous\" is the recipe before issue 13 at 32 px (fmnist_resnet); the featurizer is ResNet-18 at 224 px + LbfgsMaximumEntropy.");
        md.AppendLine("\"new-adapt\" is the library's recipe with teacher adaptation and logit distillation, \"new-noadapt\" without them; \"(default)\" marks what the library's defaults resolve to at that size.");
        md.AppendLine();
        md.AppendLine("| training images | variant | test accuracy | MMACs/image | featurizer ÷ student | fit time (s) |");
        md.AppendLine("|---|---|---|---:|---:|---:|");
        string F(IReadOnlyList<double> v) => v.Count == 0 ? "not run" : string.Create(CultureInfo.InvariantCulture, $"{Stats.Mean(v):F2} ± {Stats.Std(v):F2} (n={v.Count})");
        foreach (var size in runs.Select(r => (int)r["size"]!).Concat(previous.Select(r => (int)r["size"]!)).Distinct().Order())
        {
            foreach (var group in runs.Where(r => (int)r["size"]! == size).GroupBy(r => ((string)r["key"]!).Split('|', 3)[0] + " " + ((string)r["key"]!).Split('|', 4)[3]).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var acc = group.Select(r => 100 * (double)r["test_accuracy"]!).ToList();
                string label = group.Key.Trim() == DefaultLabel(trainSet, size) ? group.Key.Trim() + " (default)" : group.Key.Trim();
                md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {size:N0} | {label} | {F(acc)} | {Mean(group, "student_mmacs_per_image", "F1")} | {Ratio(group)} | {Mean(group, "fit_seconds", "F0")} |"));
            }
            foreach (var method in new[] { "ws", "random", "featurizer" })
            {
                var acc = previous.Where(r => (int)r["size"]! == size && (string)r["method"]! == method).Select(r => 100 * (double)r["test_accuracy"]!).ToList();
                if (acc.Count > 0) md.AppendLine($"| {size:N0} | previous: {method} | {F(acc)} | | | |");
            }
        }
        ResultFile.Write(storeName, ResultFile.Command(raw), machine, started,
            new { runs_file = Path.GetRelativePath(Repo.Root, store.Path) }, md.ToString());
    }
}

using System.Globalization;
using System.Text;
using MLNet.WeightSelection.Bench.Infra;
using MLNet.WeightSelection.Models.Vit;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Runtime;
using MLNet.WeightSelection.Training;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Bench.Throughput;

/// <summary>
/// Issue 6, section 2: training throughput at 32 px, batch 64, the same thread count on both sides. Per round:
/// the GEMM rate through TorchSharp (1024² and 2048²); one training step of each library model in TorchSharp; the
/// PyTorch baseline (bench/python/train_throughput.py, Debian's python3-torch) for the conv models; and one epoch of
/// the library's own trainer with its default augmentation, for images/s including data and the data share.
/// Rounds interleave the two frameworks so that both see the same machine load; ratios are per round, then the median.
/// </summary>
static class ThroughputBenchmark
{
    static readonly string VitJson =
        """{"family": "vit", "img_size": 32, "patch_size": 4, "embed_dim": 192, "depth": 12, "num_heads": 3, "num_classes": 10}""";

    static readonly (string Name, string Spec, bool PyTorch)[] Models =
    {
        ("resnet18_half", "resnet18_half", true),
        ("convnext_femto", "convnext_femto", true),
        ("vit_tiny_patch4_32", VitJson, false),
        // Not in the default set (no PyTorch baseline); for A/B runs of the library with --models.
        ("efficientnet_b0", "efficientnet_b0", false),
    };
    static readonly string DefaultModels = "resnet18_half,convnext_femto,vit_tiny_patch4_32";

    public static int Run(Args args, string[] raw)
    {
        int rounds = args.Int("rounds", 3);
        int threads = args.Int("threads", 2);
        int batch = args.Int("batch", 64);
        int size = args.Int("size", 32);
        int warmup = args.Int("warmup", 3);
        int steps = args.Int("steps", 20);
        int trainerSteps = args.Int("trainer-steps", 20);
        string python = args.Get("python", "/usr/bin/python3");
        var only = args.List("models", DefaultModels).ToHashSet();
        if (only.FirstOrDefault(m => Models.All(known => known.Name != m)) is { } unknown)
            throw new ArgumentException($"--models: no model '{unknown}'; known: {string.Join(", ", Models.Select(m => m.Name))}.");
        string resultName = args.Get("result", "throughput");
        // "onednn" alone keeps a profile (perf record) of the library's training step free of ATen's far slower one.
        var backEnds = args.List("conv", "aten,onednn").Select(b => b switch
        {
            "aten" => false,
            "onednn" => true,
            _ => throw new ArgumentException($"--conv takes aten, onednn or both (comma-separated), not '{b}'."),
        }).ToArray();
        args.EnsureAllUsed();
        var models = Models.Where(m => only.Contains(m.Name)).ToArray();
        var machine = MachineInfo.Current();
        var started = DateTime.UtcNow;
        set_num_threads(threads);
        Console.Error.WriteLine($"Throughput benchmark on {machine.Describe()}; {threads} threads; DNNL_MAX_CPU_ISA={Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA") ?? "(unset)"} before the first model.");

        var rows = new List<Dictionary<string, object>>();
        void Add(int round, string what, string model, double value, string unit, object? extra = null)
        {
            rows.Add(new Dictionary<string, object> { ["round"] = round, ["what"] = what, ["model"] = model, ["value"] = value, ["unit"] = unit, ["extra"] = extra ?? "" });
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {round}: {what,-45} {model,-20} {value,10:F1} {unit}"));
        }

        var vitSpec = (VisionTransformerSpec)ModelSpec.FromJson(VitJson);
        double vitForward = VitFlops.Forward(vitSpec);
        var parameters = new Dictionary<string, object>();
        for (int round = 1; round <= rounds; round++)
        {
            Console.Error.WriteLine($"Round {round} of {rounds} (load {string.Join(" / ", MachineInfo.LoadAverageNow())}) ...");
            Add(round, "TorchSharp GEMM 1024²", "-", Gemm.GflopsPerSecond(1024), "GFLOP/s");
            Add(round, "TorchSharp GEMM 2048²", "-", Gemm.GflopsPerSecond(2048), "GFLOP/s");
            // Both convolution back ends, set explicitly: the library's trainer uses oneDNN inside training steps only.
            foreach (bool oneDnn in backEnds)
            {
                bool allowed = NativeRuntimePolicy.ConfigureConvolutions(oneDnn, Console.Error.WriteLine);
                if (oneDnn && !allowed) throw new InvalidOperationException("oneDNN's convolution gradients are wrong on this machine; the library would train with ATen's.");
                using var backEnd = NativeRuntimePolicy.OneDnnForTrainingStep(allowed);
                foreach (var (name, spec, _) in models)
                {
                    manual_seed(0);
                    using var model = ModelRegistry.Create(spec, numClasses: 10, imgSize: size);
                    var r = TrainStep.Time(name, model, batch, size, warmup, steps);
                    parameters[$"{name} (TorchSharp)"] = r.Parameters;
                    Add(round, StepLabel(oneDnn), name, r.ImagesPerSecond, "images/s");
                }
            }
            var pyModels = string.Join(',', models.Where(m => m.PyTorch).Select(m => m.Name));
            // PyTorch has only the conv models' baselines; with none selected there is nothing to run.
            var pyLines = pyModels.Length == 0 ? Enumerable.Empty<System.Text.Json.JsonElement>() : ChildProcess.RunJsonLines(python, new[] { Repo.Python("train_throughput.py"), "--threads", threads.ToString(CultureInfo.InvariantCulture),
                         "--batch", batch.ToString(CultureInfo.InvariantCulture), "--size", size.ToString(CultureInfo.InvariantCulture),
                         "--warmup", warmup.ToString(CultureInfo.InvariantCulture), "--steps", steps.ToString(CultureInfo.InvariantCulture), "--models", pyModels });
            foreach (var line in pyLines)
            {
                string name = line.GetProperty("model").GetString()!;
                parameters[$"{name} ({line.GetProperty("framework").GetString()})"] = line.GetProperty("params").GetInt64();
                Add(round, "PyTorch train step (random batch)", name, line.GetProperty("images_per_second").GetDouble(), "images/s");
            }
            foreach (var (name, spec, _) in models)
            {
                var (imagesPerSecond, dataShare) = TrainerEpoch(spec, batch, size, trainerSteps, threads);
                Add(round, "library trainer (augmentation on), epoch 2", name, imagesPerSecond, "images/s", new { data_share = dataShare });
                Add(round, "library trainer data share", name, 100 * dataShare, "%");
            }
        }

        var summary = Summarize(rows, rounds, vitForward, models);
        ResultFile.Write(resultName, ResultFile.Command(raw), machine, started, new
        {
            threads, batch, size, warmup, steps, trainer_steps = trainerSteps,
            vit_spec = VitJson,
            vit_forward_flops_per_image = vitForward,
            vit_training_flops_per_image = 3 * vitForward,
            parameters,
            dnnl_max_cpu_isa = Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA"),
            rows,
            summary = summary.Json,
        }, summary.Markdown + "\nParameters: " + string.Join(", ", parameters.Select(p => $"{p.Key} {p.Value:N0}")) + ".\n");
        return 0;
    }

    static string StepLabel(bool oneDnn) => oneDnn ? "TorchSharp train step, oneDNN conv" : "TorchSharp train step, ATen conv";

    /// <summary>Two epochs of <paramref name="steps"/> batches through <see cref="ImageClassifierTrainer"/>; the second epoch's figures (the first pays one-time set-up).</summary>
    static (double ImagesPerSecond, double DataShare) TrainerEpoch(string spec, int batch, int size, int steps, int threads)
    {
        manual_seed(1);
        using var model = ModelRegistry.Create(spec, numClasses: 10, imgSize: size);
        int count = batch * steps;
        using var images = randint(0, 256, new long[] { count, 3, size, size }, dtype: ScalarType.Byte);
        using var labels = randint(0, 10, new long[] { count }, dtype: ScalarType.Int64);
        using var data = new ImageTensorDataset(images.clone(), labels.clone(), 10);
        var result = new ImageClassifierTrainer(new TrainingOptions { Epochs = 2, BatchSize = batch, Threads = threads }).Train(model, data, null);
        var epoch = result.History[^1];
        set_num_threads(threads);
        return (epoch.ImagesPerSecond, epoch.DataShare);
    }

    static (object Json, string Markdown) Summarize(List<Dictionary<string, object>> rows, int rounds, double vitForward, (string Name, string Spec, bool PyTorch)[] models)
    {
        // NaN for a back end left out with --conv; the table shows it as "–".
        double Value(int round, string what, string model) =>
            rows.SingleOrDefault(r => (int)r["round"] == round && (string)r["what"] == what && (string)r["model"] == model) is { } row ? (double)row["value"] : double.NaN;
        double Median(string what, string model) => Stats.Median(Enumerable.Range(1, rounds).Select(r => Value(r, what, model)));
        var md = new StringBuilder();
        var json = new Dictionary<string, object>();
        md.AppendLine($"Medians over {rounds} interleaved rounds; a ratio is taken within each round, then the median.");
        md.AppendLine();
        md.AppendLine("| model | TorchSharp step, oneDNN conv (library default) (img/s) | TorchSharp step, ATen conv (UseOneDnnConvolutions = false) (img/s) | PyTorch 1.13 step, oneDNN conv (img/s) | oneDNN / PyTorch | ATen / PyTorch | library trainer incl. augmentation (img/s) | data share |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        string F(double? v, string format, string suffix = "") => v is { } x && !double.IsNaN(x) ? x.ToString(format, CultureInfo.InvariantCulture) + suffix : "–";
        foreach (var (name, _, hasPy) in models)
        {
            double aten = Median(StepLabel(false), name);
            double oneDnn = Median(StepLabel(true), name);
            double trainer = Median("library trainer (augmentation on), epoch 2", name);
            double share = Median("library trainer data share", name);
            double? py = hasPy ? Median("PyTorch train step (random batch)", name) : null;
            double? Ratio(string what) => hasPy ? Stats.Median(Enumerable.Range(1, rounds).Select(r => Value(r, what, name) / Value(r, "PyTorch train step (random batch)", name))) : null;
            double? atenRatio = Ratio(StepLabel(false)), oneDnnRatio = Ratio(StepLabel(true));
            json[name] = new { torchsharp_aten_images_per_second = aten, torchsharp_onednn_images_per_second = oneDnn, pytorch_images_per_second = py, ratio_aten = atenRatio, ratio_onednn_default = oneDnnRatio, trainer_images_per_second = trainer, data_share_percent = share };
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {F(oneDnn, "F0")} | {F(aten, "F0")} | {(hasPy ? F(py, "F0") : "– (not a fair baseline, see text)")} | {F(oneDnnRatio, "F2", "×")} | {F(atenRatio, "F2", "×")} | {trainer:F0} | {share:F1} % |"));
        }
        if (!models.Any(m => m.Name == "vit_tiny_patch4_32")) return (json, md.ToString());
        double gemm1024 = Median("TorchSharp GEMM 1024²", "-");
        double gemm2048 = Median("TorchSharp GEMM 2048²", "-");
        double vitTraining = 3 * vitForward;
        double achieved = Median(StepLabel(true), "vit_tiny_patch4_32") * vitTraining / 1e9;
        double share1024 = Stats.Median(Enumerable.Range(1, rounds).Select(r => Value(r, StepLabel(true), "vit_tiny_patch4_32") * vitTraining / 1e9 / Value(r, "TorchSharp GEMM 1024²", "-")));
        double share2048 = Stats.Median(Enumerable.Range(1, rounds).Select(r => Value(r, StepLabel(true), "vit_tiny_patch4_32") * vitTraining / 1e9 / Value(r, "TorchSharp GEMM 2048²", "-")));
        json["vit"] = new { forward_gflops_per_image = vitForward / 1e9, training_gflops_per_image = vitTraining / 1e9, achieved_gflops_per_second = achieved, gemm1024, gemm2048, share_of_gemm1024 = share1024, share_of_gemm2048 = share2048 };
        md.AppendLine();
        md.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"ViT-Tiny/4 at 32 px: {vitForward / 1e9:F3} GFLOP forward per image (analytic, matrix products only), {vitTraining / 1e9:F3} GFLOP per trained image (3×). " +
            $"Achieved {achieved:F1} GFLOP/s in the TorchSharp step; GEMM through TorchSharp: {gemm1024:F1} GFLOP/s at 1024², {gemm2048:F1} GFLOP/s at 2048². " +
            $"Share of the GEMM rate: {100 * share1024:F0} % of 1024², {100 * share2048:F0} % of 2048²."));
        return (json, md.ToString());
    }
}

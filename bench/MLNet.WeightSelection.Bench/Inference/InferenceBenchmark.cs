using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Transforms.Image;
using MLNet.WeightSelection.Bench.Accuracy;
using MLNet.WeightSelection.Bench.Infra;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Training;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Bench.Inference;

/// <summary>
/// Issue 6, section 3: inference latency (batch 1) and throughput (batch 64) on 32 px Fashion-MNIST images, for
/// (1) the half-width ResNet-18 student trained by <c>InitializeFromTeacher</c> (weight selection from ML.NET's
/// ResNet-18), saved as model.zip and loaded back: ML.NET scoring through ONNX Runtime; (2) the same student's ONNX
/// export run by ONNX Runtime directly; (3) the same student in TorchSharp eager mode; (4) what ML.NET users do today:
/// ResizeImages(224) → ExtractPixels → DnnFeaturizeImage(ResNet-18) → LbfgsMaximumEntropy, saved and loaded the same
/// way. Rounds interleave the four; ratios are against (4) within each round. Accuracy is not the point here: the
/// models are fitted briefly on a small subset (see section 4 for accuracy).
/// </summary>
static class InferenceBenchmark
{
    const int Side = 32;
    const int Classes = 10;
    const int Batch = 64;

    sealed class Input
    {
        public string Label { get; set; } = "";

        [ImageType(Side, Side)]
        public MLImage Image { get; set; } = null!;
    }

    sealed class Output
    {
        [ColumnName("Score")]
        public float[] Score { get; set; } = Array.Empty<float>();
    }

    public static int Run(Args args, string[] raw)
    {
        int rounds = args.Int("rounds", 3);
        int threads = args.Int("threads", 2);
        int latencyRuns = args.Int("latency-runs", 30);
        int fitImages = args.Int("fit-images", 500);
        int epochs = args.Int("epochs", 2);
        int viewRows = args.Int("view-rows", 10_000);
        string resultName = args.Get("result", "inference");
        args.EnsureAllUsed();
        var machine = MachineInfo.Current();
        var started = DateTime.UtcNow;
        set_num_threads(threads);
        string folder = Repo.Out("inference");
        Directory.CreateDirectory(folder);
        var ml = new MLContext(seed: 1);

        var train = FashionMnist.Train();
        var test = FashionMnist.Test();
        var fitRows = FashionMnist.Balanced(train.Rows(), fitImages / Classes, seed: 1);
        // Fresh MLImage objects for every pass: ML.NET's image transforms dispose the images they read from an
        // in-memory view, so a second pass over the same objects fails with "Object is disposed".
        IDataView FitData() => ml.Data.LoadFromEnumerable(fitRows.Select(r => new Input { Label = FashionMnist.ClassNames[r.Label], Image = ToImage(train, r.Row) }).ToList());
        List<Input> ScoreRows() => Enumerable.Range(0, Batch).Select(i => new Input { Label = FashionMnist.ClassNames[test.Labels[i]], Image = ToImage(test, i) }).ToList();
        var fitData = FitData();

        // (1) and (2), (3): the student.
        string studentZip = Path.Combine(folder, "student.model.zip");
        string studentOnnx = Path.Combine(folder, "student.onnx");
        string studentWeights = Path.Combine(folder, "student.safetensors");
        Console.Error.WriteLine($"Fitting the student pipeline on {fitRows.Count} images, {epochs} epochs ...");
        var studentPipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.InitializeFromTeacher(new WeightSelectionOptions
            {
                Teacher = Teacher.FromOnnx(ResNetTeacher.OnnxPath),
                Student = "resnet18_half",
                ImageSize = Side,
                Epochs = epochs,
                ValidationFraction = 0,
                Threads = threads,
            }));
        var fitted = studentPipeline.Fit(fitData);
        var estimatorPart = fitted.LastTransformer;
        estimatorPart.ExportOnnx(studentOnnx);
        estimatorPart.SaveStudentSafetensors(studentWeights);
        ml.Model.Save(fitted, fitData.Schema, studentZip);
        var studentSpec = (ResNetSpec)estimatorPart.StudentSpec;

        // (4): the featurizer pipeline.
        string featurizerZip = Path.Combine(folder, "featurizer.model.zip");
        Console.Error.WriteLine($"Fitting the featurizer pipeline on {Math.Min(200, fitRows.Count)} images ...");
        var featurizerPipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.ResizeImages("Resized", 224, 224, "Image"))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Resized"))
            .Append(ml.Transforms.DnnFeaturizeImage("Features", m => m.ModelSelector.ResNet18(ml, m.OutputColumn, m.InputColumn), "Pixels"))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Label", "Features"));
        var featurizerFit = featurizerPipeline.Fit(ml.Data.TakeRows(FitData(), 200));
        ml.Model.Save(featurizerFit, fitData.Schema, featurizerZip);

        var studentModel = ml.Model.Load(studentZip, out _);
        var studentBatched = ml.Model.LoadWithBatchedScoring(studentZip, out _);
        var featurizerModel = ml.Model.Load(featurizerZip, out _);
        using var torchStudent = studentSpec.CreateModel();
        using (var weights = Checkpoints.SafeTensorsFile.Open(studentWeights)) torchStudent.LoadStateDict(weights);
        using (var import = ResNetTeacher.Import()) torchStudent.Input = import.Input; // the estimator gives the student its teacher's convention
        torchStudent.eval();
        using var session = new InferenceSession(studentOnnx, new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 });
        using var pixels = test.ToDataset(Enumerable.Range(0, Batch).Select(i => (i, (int)test.Labels[i])).ToList(), Classes);

        var variants = new (string Name, Func<int, double> Latency, Func<double> Throughput)[]
        {
            ("student via ML.NET (model.zip → ApplyOnnxModel)", n => MlNetLatency(ml, studentModel, ScoreRows(), n), () => MlNetThroughput(ml, studentModel, ScoreRows())),
            ("student via ONNX Runtime directly", n => OrtLatency(session, pixels, n), () => OrtThroughput(session, pixels)),
            ("student in TorchSharp eager", n => TorchLatency(torchStudent, pixels, n), () => TorchThroughput(torchStudent, pixels)),
            ("ResNet-18 featurizer + LbfgsMaximumEntropy (ML.NET)", n => MlNetLatency(ml, featurizerModel, ScoreRows(), n), () => MlNetThroughput(ml, featurizerModel, ScoreRows())),
        };
        // Issue 15, item 5: Transform over a large data view, against ONNX Runtime on the same images in batches of 64.
        viewRows = Math.Min(viewRows, test.Count);
        List<Input> ViewRows() => Enumerable.Range(0, viewRows).Select(i => new Input { Label = FashionMnist.ClassNames[test.Labels[i]], Image = ToImage(test, i) }).ToList();
        using var viewPixels = test.ToDataset(Enumerable.Range(0, viewRows).Select(i => (i, (int)test.Labels[i])).ToList(), Classes);
        var ortBatches = Enumerable.Range(0, (viewRows + Batch - 1) / Batch)
            .Select(b => OrtInput(viewPixels, b * Batch, Math.Min(Batch, viewRows - b * Batch))).ToList();
        var viewVariants = new (string Name, Func<double> Throughput)[]
        {
            (FittedView, () => MlNetViewThroughput(ml, fitted, ViewRows())),
            (LoadedBatchedView, () => MlNetViewThroughput(ml, studentBatched, ViewRows())),
            (LoadedView, () => MlNetViewThroughput(ml, studentModel, ViewRows())),
            (OrtView, () => OrtViewThroughput(session, ortBatches)),
        };
        var viewResults = new List<Dictionary<string, object>>();

        var rows = new List<Dictionary<string, object>>();
        for (int round = 1; round <= rounds; round++)
        {
            Console.Error.WriteLine($"Round {round} of {rounds} (load {string.Join(" / ", MachineInfo.LoadAverageNow())}) ...");
            foreach (var (name, throughput) in viewVariants)
            {
                double ips = throughput();
                viewResults.Add(new Dictionary<string, object> { ["round"] = round, ["variant"] = name, ["images_per_second"] = ips, ["load"] = MachineInfo.LoadAverageNow()[0] });
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-55} {viewRows} rows: {ips,8:F1} images/s"));
            }
            foreach (var (name, latency, throughput) in variants)
            {
                double ms = latency(latencyRuns);
                double ips = throughput();
                rows.Add(new Dictionary<string, object> { ["round"] = round, ["variant"] = name, ["latency_ms"] = ms, ["images_per_second"] = ips });
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-55} batch 1: {ms,8:F2} ms   batch {Batch}: {ips,8:F1} images/s"));
            }
        }

        double studentFlops = ResNetFlops.Forward(studentSpec, Side, Classes);
        double featurizerFlops = ResNetFlops.Forward(new[] { 2, 2, 2, 2 }, new[] { 64, 128, 256, 512 }, 64, 224, 0) + 2.0 * 512 * Classes;
        var sizes = new Dictionary<string, long>
        {
            ["student via ML.NET (model.zip → ApplyOnnxModel)"] = new FileInfo(studentZip).Length,
            ["student via ONNX Runtime directly"] = new FileInfo(studentOnnx).Length,
            ["student in TorchSharp eager"] = new FileInfo(studentWeights).Length,
            ["ResNet-18 featurizer + LbfgsMaximumEntropy (ML.NET)"] = new FileInfo(featurizerZip).Length,
        };
        var flops = new Dictionary<string, double>
        {
            ["student via ML.NET (model.zip → ApplyOnnxModel)"] = studentFlops,
            ["student via ONNX Runtime directly"] = studentFlops,
            ["student in TorchSharp eager"] = studentFlops,
            ["ResNet-18 featurizer + LbfgsMaximumEntropy (ML.NET)"] = featurizerFlops,
        };
        string baseline = variants[^1].Name;
        var md = new StringBuilder();
        md.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Images: 32 px Fashion-MNIST test images (as 32×32 MLImage for the ML.NET pipelines, as [N, 3, 32, 32] pixels for ONNX Runtime and TorchSharp). {threads} threads. Latency: median of {latencyRuns} single-image predictions " +
            $"(PredictionEngine for ML.NET) after 3 warm-up calls; throughput: {Batch} images per call (ML.NET: Transform over {Batch} rows), median over rounds. Ratios are against the featurizer pipeline in the same round ({rounds} rounds)."));
        md.AppendLine();
        md.AppendLine("| model | on disk (MB) | MFLOPs / image | latency, batch 1 (ms) | speed-up vs featurizer | throughput, batch 64 (images/s) | × featurizer |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        var summary = new List<object>();
        foreach (var (name, _, _) in variants)
        {
            var mine = rows.Where(r => (string)r["variant"] == name).ToList();
            double latency = Stats.Median(mine.Select(r => (double)r["latency_ms"]));
            double ips = Stats.Median(mine.Select(r => (double)r["images_per_second"]));
            double latencyRatio = Stats.Median(mine.Select(r => (double)rows.Single(b => (int)b["round"] == (int)r["round"] && (string)b["variant"] == baseline)["latency_ms"] / (double)r["latency_ms"]));
            double ipsRatio = Stats.Median(mine.Select(r => (double)r["images_per_second"] / (double)rows.Single(b => (int)b["round"] == (int)r["round"] && (string)b["variant"] == baseline)["images_per_second"]));
            summary.Add(new { name, bytes = sizes[name], mflops = flops[name] / 1e6, latency_ms = latency, latency_speedup = latencyRatio, images_per_second = ips, throughput_ratio = ipsRatio });
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {sizes[name] / 1e6:F1} | {flops[name] / 1e6:F0} | {latency:F2} | {latencyRatio:F1}× | {ips:F1} | {ipsRatio:F1}× |"));
        }
        md.AppendLine();
        md.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"**Scoring a large data view** (issue 15): `Transform` over {viewRows:N0} rows (32×32 MLImage), read through a cursor on Score; ONNX Runtime on the same images in batches of {Batch}, tensors made before the clock. Ratios are against ONNX Runtime in the same round; median of {rounds} rounds."));
        md.AppendLine();
        md.AppendLine("| scoring path | throughput (images/s) | × ONNX Runtime | load average (1 min) |");
        md.AppendLine("|---|---|---|---|");
        var viewSummary = new List<object>();
        foreach (var (name, _) in viewVariants)
        {
            var mine = viewResults.Where(r => (string)r["variant"] == name).ToList();
            double ips = Stats.Median(mine.Select(r => (double)r["images_per_second"]));
            double ratio = Stats.Median(mine.Select(r => (double)r["images_per_second"] / (double)viewResults.Single(b => (int)b["round"] == (int)r["round"] && (string)b["variant"] == OrtView)["images_per_second"]));
            double load = Stats.Median(mine.Select(r => (double)r["load"]));
            viewSummary.Add(new { name, images_per_second = ips, ratio_to_onnx_runtime = ratio, load });
            md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {ips:F1} | {ratio:F2}× | {load:F1} |"));
        }
        md.AppendLine();
        md.AppendLine("On disk: model.zip for the ML.NET pipelines, the .onnx file for ONNX Runtime, the safetensors weights for TorchSharp. MFLOPs: analytic (convolutions and classifier; bench/MLNet.WeightSelection.Bench/Inference/ResNetFlops.cs); the featurizer's ResNet-18 runs at 224 px.");
        ResultFile.Write(resultName, ResultFile.Command(raw), machine, started, new { threads, latency_runs = latencyRuns, batch = Batch, fit_images = fitRows.Count, epochs, rows, summary, view_rows = viewRows, view_results = viewResults, view_summary = viewSummary }, md.ToString());
        return 0;
    }

    static double MlNetLatency(MLContext ml, ITransformer model, List<Input> rows, int runs)
    {
        // Not disposed: disposing a PredictionEngine disposes the model's OnnxTransformer session with it, and the
        // same model is scored again afterwards (Transform then fails with a NullReferenceException inside ONNX Runtime).
        var engine = ml.Model.CreatePredictionEngine<Input, Output>(model);
        for (int i = 0; i < 3; i++) engine.Predict(rows[i]);
        var times = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            var output = engine.Predict(rows[(i + 3) % rows.Count]); // rows not used by the warm-up
            times.Add(clock.Elapsed.TotalMilliseconds);
            if (output.Score.Length != Classes) throw new InvalidOperationException($"Expected {Classes} scores, got {output.Score.Length}.");
        }
        return Stats.Median(times);
    }

    static double MlNetThroughput(MLContext ml, ITransformer model, List<Input> rows)
    {
        var view = ml.Data.LoadFromEnumerable(rows);
        var clock = Stopwatch.StartNew();
        var scores = ml.Data.CreateEnumerable<Output>(model.Transform(view), reuseRowObject: true).Count();
        if (scores != rows.Count) throw new InvalidOperationException($"Scored {scores} of {rows.Count} rows.");
        return rows.Count / clock.Elapsed.TotalSeconds;
    }

    const string FittedView = "fitted transformer (batched ONNX Runtime calls)";
    const string LoadedBatchedView = "model.zip loaded with LoadWithBatchedScoring";
    const string LoadedView = "model.zip loaded by plain ML.NET (ApplyOnnxModel, row by row)";
    const string OrtView = "ONNX Runtime directly, batches of 64";

    static double MlNetViewThroughput(MLContext ml, ITransformer model, List<Input> rows)
    {
        var view = ml.Data.LoadFromEnumerable(rows);
        var clock = Stopwatch.StartNew();
        var scored = model.Transform(view);
        var column = scored.Schema["Score"];
        using var cursor = scored.GetRowCursor(new[] { column });
        var getScore = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> score = default;
        int count = 0;
        while (cursor.MoveNext())
        {
            getScore(ref score);
            count++;
        }
        double seconds = clock.Elapsed.TotalSeconds;
        if (count != rows.Count || score.Length != Classes) throw new InvalidOperationException($"Scored {count} of {rows.Count} rows ({score.Length} scores per row).");
        return count / seconds;
    }

    static double OrtViewThroughput(InferenceSession session, List<DenseTensor<float>> batches)
    {
        OrtRun(session, batches[0]);
        double ms = batches.Sum(b => OrtRun(session, b));
        return batches.Sum(b => b.Dimensions[0]) / (ms / 1000);
    }

    static DenseTensor<float> OrtInput(ImageTensorDataset data, int count) => OrtInput(data, 0, count);

    static DenseTensor<float> OrtInput(ImageTensorDataset data, int start, int count)
    {
        using var floats = data.Images.narrow(0, start, count).to_type(ScalarType.Float32).contiguous();
        return new DenseTensor<float>(floats.data<float>().ToArray(), new[] { count, 3, Side, Side });
    }

    static double OrtRun(InferenceSession session, DenseTensor<float> input)
    {
        var clock = Stopwatch.StartNew();
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.First(), input) });
        var probabilities = results.First().AsTensor<float>();
        if (probabilities.Length != input.Dimensions[0] * Classes) throw new InvalidOperationException("ONNX Runtime gave the wrong number of scores.");
        return clock.Elapsed.TotalMilliseconds;
    }

    static double OrtLatency(InferenceSession session, ImageTensorDataset data, int runs)
    {
        var one = OrtInput(data, 1);
        for (int i = 0; i < 3; i++) OrtRun(session, one);
        return Stats.Median(Enumerable.Range(0, runs).Select(_ => OrtRun(session, one)));
    }

    static double OrtThroughput(InferenceSession session, ImageTensorDataset data)
    {
        var batch = OrtInput(data, Batch);
        OrtRun(session, batch);
        return Batch / (OrtRun(session, batch) / 1000);
    }

    static double TorchRun(ImageClassifier model, ImageTensorDataset data, int count)
    {
        var clock = Stopwatch.StartNew();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var probabilities = nn.functional.softmax(model.forward(InputNormalization.Apply(data.Images.narrow(0, 0, count), model.Input)), 1);
        if (probabilities.shape[1] != Classes) throw new InvalidOperationException("TorchSharp gave the wrong number of scores.");
        return clock.Elapsed.TotalMilliseconds;
    }

    static double TorchLatency(ImageClassifier model, ImageTensorDataset data, int runs)
    {
        for (int i = 0; i < 3; i++) TorchRun(model, data, 1);
        return Stats.Median(Enumerable.Range(0, runs).Select(_ => TorchRun(model, data, 1)));
    }

    static double TorchThroughput(ImageClassifier model, ImageTensorDataset data)
    {
        TorchRun(model, data, Batch);
        return Batch / (TorchRun(model, data, Batch) / 1000);
    }

    static MLImage ToImage(FashionMnist data, int row)
    {
        var bgra = new byte[Side * Side * 4];
        int pad = (Side - FashionMnist.Side) / 2;
        for (int y = 0; y < FashionMnist.Side; y++)
            for (int x = 0; x < FashionMnist.Side; x++)
            {
                byte v = data.Pixels[(long)row * FashionMnist.Side * FashionMnist.Side + y * FashionMnist.Side + x];
                int o = ((y + pad) * Side + x + pad) * 4;
                bgra[o] = bgra[o + 1] = bgra[o + 2] = v;
            }
        for (int i = 3; i < bgra.Length; i += 4) bgra[i] = 255;
        return MLImage.CreateFromPixels(Side, Side, MLPixelFormat.Bgra32, bgra);
    }
}

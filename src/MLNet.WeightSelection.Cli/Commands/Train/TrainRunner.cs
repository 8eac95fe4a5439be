using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Transforms;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Checkpoints.Onnx;
using MLNet.WeightSelection.Cli.Infrastructure;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Training;
using Spectre.Console;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>
/// The work of <c>ws train</c>: the sample's flow on any image folder. Labels become keys and images load with ML.NET's
/// own transforms, <c>InitializeFromTeacher</c> selects and trains the student (the test split is its per-epoch
/// validation set), and the fitted pipeline is saved as model.zip next to the student as ONNX and safetensors.
/// </summary>
internal static class TrainRunner
{
    public static int Run(TrainRequest request, CliContext context)
    {
        Check(request);
        var studentSpec = Specs.Resolve(request.Student, "--student");
        bool select = request.Init == "selection";
        var (teacher, teacherInput) = TeacherFor(request, studentSpec, needed: select || request.Distill != "none");
        string outFolder = TrainPreflight.Check(request);

        var (train, test) = ImageFolder.LoadSplits(request.Data, "--data");
        if (test is null)
        {
            (train, test) = ImageFolder.Split(train, request.TestFraction, request.Seed);
            context.Out.WriteLine($"No test/ folder: holding out {test.Count} of {train.Count + test.Count} images as the test split (--test-fraction {request.TestFraction.ToString(CultureInfo.InvariantCulture)}).");
        }
        int classes = train.Select(r => r.Label).Distinct().Count();
        if (classes < 2) throw new CliException($"--data: the training images have {classes} class; a classifier needs at least 2.");
        context.Out.WriteLine($"Data: {train.Count} training and {test.Count} test images, {classes} classes.");

        var ml = new MLContext(request.Seed);
        var trainView = ml.Data.LoadFromEnumerable(train);
        var prefix = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Append(ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageRow.ImagePath)))
            .Fit(trainView);
        var testView = ml.Data.LoadFromEnumerable(test);

        var options = new WeightSelectionOptions
        {
            Teacher = teacher,
            Student = Architecture.FromSpec(studentSpec),
            ImageSize = request.ImageSize,
            Seed = request.Seed,
            Initialization = select ? Initialization.WeightSelection : Initialization.Random,
            LayerSelection = LayerMaps.Parse(request.LayerMap, SelectionMethods.Layers(request.Layers), "--layer-map"),
            ElementSelection = SelectionMethods.Elements(request.Elements, request.Seed),
            WholeHeads = request.WholeHeads,
            Device = request.Device,
            Epochs = request.Epochs,
            BatchSize = request.BatchSize,
            LearningRate = request.LearningRate,
            Augmentation = Augmentation(request),
            Distillation = request.Distill switch
            {
                "logits" => DistillationOptions.Logits(request.DistillAlpha, request.DistillTemperature),
                "features" => DistillationOptions.Features(request.DistillAlpha),
                _ => null,
            },
            EarlyStopping = request.Patience is { } patience ? new EarlyStoppingOptions { Patience = patience, MinDelta = request.MinDelta } : null,
            Ema = request.EmaDecay is { } decay ? new EmaOptions { Decay = decay } : null,
            // The test split is the validation set, so early stopping and the best epoch follow test accuracy.
            ValidationSet = prefix.Transform(testView),
            ValidationFraction = 0,
            CheckpointDirectory = request.CheckpointDir is null ? null : Path.GetFullPath(request.CheckpointDir),
            Threads = request.Threads,
            CancellationToken = context.Cancellation,
        };

        WeightSelectionTransformer fitted;
        try
        {
            fitted = TrainingProgressView.Fit(context, ml, options, () => ml.Transforms.InitializeFromTeacher(options).Fit(prefix.Transform(trainView)));
        }
        catch (OperationCanceledException) when (options.CheckpointDirectory is { } saved && TrainPreflight.HasCheckpoint(saved))
        {
            context.Error.WriteLine($"ws train: the last completed epoch is saved in {saved}; run the same command again to resume.");
            throw;
        }
        using var _ = fitted;
        var model = prefix.Append(fitted);
        var evaluation = ModelEvaluation.Evaluate(ml, model, test);

        string modelZip = Path.Combine(outFolder, "model.zip"), onnx = Path.Combine(outFolder, "student.onnx");
        string weights = Path.Combine(outFolder, "student.safetensors"), specJson = Path.Combine(outFolder, "student.json");
        string reportJson = Path.Combine(outFolder, "selection-report.json");
        using (var outputs = new AtomicOutputs())
        {
            outputs.Add(modelZip, temp => ml.Model.Save(model, trainView.Schema, temp));
            outputs.Add(onnx, temp => fitted.ExportOnnx(temp));
            outputs.Add(weights, temp => fitted.SaveStudentSafetensors(temp));
            // The student was trained on its teacher's input convention; the spec says so, for export-onnx and PyTorch users.
            outputs.Add(specJson, temp => File.WriteAllText(temp, (fitted.StudentSpec with { Input = teacherInput ?? fitted.StudentSpec.Input }).ToJson()));
            if (fitted.SelectionReport is { } report) outputs.Add(reportJson, temp => File.WriteAllText(temp, report.ToJson()));
            outputs.Commit();
        }

        WriteSummary(context.Out, options, fitted, evaluation, weights, modelZip);
        EvaluationTables.Write(context.Out, evaluation);
        context.Out.WriteLine($"Wrote {modelZip}, {onnx}, {weights}, {specJson}" + (fitted.SelectionReport is null ? "." : $", {reportJson}."));
        return ExitCodes.Success;
    }

    static void Check(TrainRequest r)
    {
        if (r.Epochs < 1) throw new CliException($"--epochs must be at least 1; got {r.Epochs}.");
        if (r.BatchSize < 1) throw new CliException($"--batch-size must be at least 1; got {r.BatchSize}.");
        if (!(r.LearningRate > 0) || double.IsInfinity(r.LearningRate)) throw new CliException($"--lr must be positive; got {r.LearningRate}.");
        if (r.ImageSize is < 1) throw new CliException($"--image-size must be positive; got {r.ImageSize}.");
        if (!(r.TestFraction > 0 && r.TestFraction < 1)) throw new CliException($"--test-fraction must lie in (0, 1); got {r.TestFraction}.");
        if (r.Threads is < 1) throw new CliException($"--threads must be at least 1; got {r.Threads}.");
        if (r.EmaDecay is { } ema && !(ema >= 0 && ema < 1)) throw new CliException($"--ema-decay must lie in [0, 1); got {ema.ToString(CultureInfo.InvariantCulture)}.");
        if (r.Patience is < 1) throw new CliException($"--patience must be at least 1; got {r.Patience}.");
        if (!(r.MinDelta >= 0) || double.IsInfinity(r.MinDelta)) throw new CliException($"--min-delta must be finite and at least 0; got {r.MinDelta}.");
        if (r.MinDeltaGiven && r.Patience is null) throw new CliException("--min-delta applies to early stopping; give --patience too.");
        if (r.DistillAlphaGiven && r.Distill == "none") throw new CliException("--distill-alpha weighs distillation; give --distill logits or features too.");
        if (!(r.DistillAlpha >= 0) || float.IsInfinity(r.DistillAlpha)) throw new CliException($"--distill-alpha must be finite and at least 0; got {r.DistillAlpha}.");
        if (r.DistillTemperatureGiven && r.Distill != "logits") throw new CliException("--distill-temperature applies to logit distillation; give --distill logits too.");
        if (!(r.DistillTemperature > 0) || float.IsInfinity(r.DistillTemperature)) throw new CliException($"--distill-temperature must be finite and positive; got {r.DistillTemperature}.");
        if (r.Init == "random" && r.LayerMap.Count > 0) throw new CliException("--layer-map chooses teacher layers for weight selection, which --init random skips.");
        if (r.Init == "random" && r.WholeHeads) throw new CliException("--whole-heads chooses teacher heads for weight selection, which --init random skips.");
    }

    /// <summary>The teacher, and the input convention the student inherits from it.</summary>
    static (Teacher?, InputConvention?) TeacherFor(TrainRequest request, ModelSpec studentSpec, bool needed)
    {
        if (request.Teacher is null)
        {
            if (needed)
                throw new CliException(request.Init == "selection"
                    ? "--teacher is required for weight selection (or pass --init random for the random-init baseline)."
                    : "--teacher is required for distillation.");
            return (null, null);
        }
        string path = Path.GetFullPath(request.Teacher);
        if (!File.Exists(path)) throw new CliException($"--teacher: no file at '{path}'.");
        if (path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            if (studentSpec.Family != "resnet")
                throw new CliException($"--teacher: an ONNX teacher is imported as a ResNet, but the student is a {studentSpec.Family}.");
            using var import = OnnxResNetImporter.Import(path);
            return (Teacher.FromOnnx(path), import.Input);
        }
        if (request.TeacherArch is null)
            throw new CliException("--teacher-arch is required with a checkpoint teacher (a preset name, a .json file or inline JSON).");
        var teacherSpec = Specs.Resolve(request.TeacherArch, "--teacher-arch");
        if (teacherSpec.Family != studentSpec.Family)
            throw new CliException($"The teacher is a {teacherSpec.Family} but the student a {studentSpec.Family}; weight selection needs one family.");
        return (Teacher.FromFile(path, teacherSpec), teacherSpec.Input);
    }

    static void WriteSummary(IAnsiConsole console, WeightSelectionOptions options, WeightSelectionTransformer fitted, EvaluationResult evaluation,
        string weights, string modelZip)
    {
        long parameters;
        using (var file = SafeTensorsFile.Open(weights))
            parameters = file.Keys.Where(k => !CheckpointSummary.IsBuffer(k)).Sum(k => file.GetInfo(k).ElementCount);
        var history = fitted.History;
        var table = Tables.Create("", "value").RightAligned(1);
        table.AddTextRow("student", $"{fitted.StudentSpec.Family}, {fitted.StudentSpec.ImageSize} px, {Format.Short(parameters)} parameters");
        table.AddTextRow("initialization", fitted.SelectionReport is { } report
            ? $"weight selection (layers {report.LayerSelection}, elements {report.ElementSelection}{(report.WholeHeads ? ", whole heads" : "")})"
            : "random");
        table.AddTextRow("distillation", options.Distillation?.ToString() ?? "none");
        table.AddTextRow("randaugment", fitted.Recipe.Student.Augmentation.RandAugment?.ToString() ?? "off");
        table.AddTextRow("device", options.Device ?? "cpu");
        var training = fitted.Training;
        table.AddTextRow("epochs", $"{history.Count} of {fitted.Recipe.Student.Epochs} (best {training.BestEpoch})"
            + (training.StoppedEarly ? ", stopped early" : "") + (training.Resumed ? $", resumed from {options.CheckpointDirectory}" : ""));
        if (options.Ema is not null)
        {
            // Early stopping keeps the best epoch; otherwise the last epoch is kept.
            var kept = options.EarlyStopping is not null ? training.Best : history[^1];
            table.AddTextRow("weights kept", (training.KeptEma ? "EMA" : "live")
                + $" (epoch {kept.Epoch}: EMA {Format.Percent(kept.EmaValidationAccuracy)}, live {Format.Percent(kept.ValidationAccuracy)} on the test split)");
        }
        table.AddTextRow("final train loss", Format.Number(history[^1].TrainLoss));
        table.AddTextRow("test accuracy", Format.Percent(evaluation.Accuracy));
        table.AddTextRow("test top-5", evaluation.Top5 is { } top5 ? Format.Percent(top5) : "-");
        table.AddTextRow("test log-loss", Format.Number(evaluation.LogLoss));
        table.AddTextRow("training time", history[^1].Elapsed.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture));
        table.AddTextRow("images/s", Format.Number(history.Average(h => h.ImagesPerSecond), "0"));
        table.AddTextRow("model.zip", Format.Bytes(new FileInfo(modelZip).Length));
        console.Write(table);
    }

    /// <summary>The recipe, or none with --no-augmentation, plus RandAugment when --aa gives it.</summary>
    static AugmentationOptions Augmentation(TrainRequest request)
    {
        var augmentation = request.NoAugmentation ? AugmentationOptions.None : AugmentationOptions.Default;
        if (request.AutoAugment is { } config) augmentation.RandAugment = RandAugmentOptions.Parse(config);
        return augmentation;
    }
}

using System.Globalization;
using MLNet.WeightSelection.Cli.Infrastructure;
using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Training;
using Microsoft.ML.Transforms;
using Microsoft.ML;
using Spectre.Console;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>
/// The work of <c>ws train</c>: the sample's flow on any image folder. Labels become keys and images load with ML.NET's
/// own transforms, <c>InitializeFromTeacher</c> fits the recipe to the training split, holds out its validation share,
/// adapts the teacher, selects and trains the student, and the fitted pipeline is saved as model.zip next to the student
/// as ONNX and safetensors. The test split is only scored at the end.
/// </summary>
internal static class TrainRunner
{
    /// <summary>The <c>--aa</c> value that turns the fitted RandAugment off.</summary>
    public const string NoRandAugment = "none";

    public static int Run(TrainRequest request, CliContext context)
    {
        Check(request);
        var studentSpec = Specs.Resolve(request.Student, "--student");
        bool select = request.Init == "selection";
        var (teacher, teacherInput) = TeacherFor(request, studentSpec, context, needed: select || request.Distill is ("logits" or "features"));
        string outFolder = TrainPreflight.Check(request);

        var (train, test) = ImageFolder.LoadSplits(request.Data, "--data");
        if (test is null)
        {
            (train, test) = ImageFolder.Split(train, request.TestFraction, request.Seed);
            context.Out.WriteLine($"No test/ folder: holding out {test.Count} of {train.Count + test.Count} images as the test split (--test-fraction {request.TestFraction.ToString(CultureInfo.InvariantCulture)}).");
        }
        int classes = train.Select(r => r.Label).Distinct().Count();
        if (classes < 2) throw new CliException($"--data: the training images have {classes} class; a classifier needs at least 2.");
        context.Out.WriteLine($"Data: {train.Count} training and {test.Count} test images, {classes} classes." + (request.ValidationFraction > 0
            ? $" Validation: {Format.Percent(request.ValidationFraction)} of each class held out of the training images (--validation-fraction); the test images are only scored at the end."
            : " No validation (--validation-fraction 0); the test images are only scored at the end."));

        var ml = new MLContext(request.Seed);
        var trainView = ml.Data.LoadFromEnumerable(train);
        var prefix = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Append(ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageRow.ImagePath)))
            .Fit(trainView);
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
            WarmupEpochs = request.WarmupEpochs,
            Augmentation = request.NoAugmentation ? AugmentationOptions.None : null,
            RandAugment = request.AutoAugment switch { null => null, NoRandAugment => RandAugmentOptions.Off, { } aa => RandAugmentOptions.Parse(aa) },
            Distillation = request.Distill switch
            {
                "logits" => DistillationOptions.Logits(request.DistillAlpha, request.DistillTemperature),
                "features" => DistillationOptions.Features(request.DistillAlpha),
                "none" => DistillationOptions.Off,
                _ => null,
            },
            TeacherAdaptation = request.NoAdaptTeacher ? TeacherAdaptationOptions.Off
                : request.AdaptEpochs is { } adaptEpochs ? new TeacherAdaptationOptions { Epochs = adaptEpochs } : null,
            EarlyStopping = request.Patience is { } patience ? new EarlyStoppingOptions { Patience = patience, MinDelta = request.MinDelta } : null,
            Ema = request.NoEma ? EmaOptions.Off : request.EmaDecay is { } decay ? new EmaOptions { Decay = decay } : null,
            // Validation is held out of the training split (stratified), so the test split stays unseen until the end.
            ValidationFraction = request.ValidationFraction,
            CheckpointDirectory = request.CheckpointDir is null ? null : Path.GetFullPath(request.CheckpointDir),
            PixelCacheDirectory = request.PixelCache is null ? null : Path.GetFullPath(request.PixelCache),
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

        TrainSummary.Write(context.Out, options, fitted, evaluation, weights, modelZip);
        EvaluationTables.Write(context.Out, evaluation);
        context.Out.WriteLine($"Wrote {modelZip}, {onnx}, {weights}, {specJson}" + (fitted.SelectionReport is null ? "." : $", {reportJson}."));
        return ExitCodes.Success;
    }

    static void Check(TrainRequest r)
    {
        if (r.Epochs is < 1) throw new CliException($"--epochs must be at least 1; got {r.Epochs}.");
        if (r.BatchSize is < 1) throw new CliException($"--batch-size must be at least 1; got {r.BatchSize}.");
        if (r.LearningRate is { } lr && (!(lr > 0) || double.IsInfinity(lr))) throw new CliException($"--lr must be positive; got {lr}.");
        if (r.WarmupEpochs is { } warmup && (!(warmup >= 0) || double.IsInfinity(warmup)))
            throw new CliException($"--warmup-epochs must be finite and at least 0; got {warmup.ToString(CultureInfo.InvariantCulture)}.");
        if (!(r.ValidationFraction >= 0 && r.ValidationFraction < 1))
            throw new CliException($"--validation-fraction must lie in [0, 1); got {r.ValidationFraction.ToString(CultureInfo.InvariantCulture)}.");
        if (r.ImageSize is < 1) throw new CliException($"--image-size must be positive; got {r.ImageSize}.");
        if (!(r.TestFraction > 0 && r.TestFraction < 1)) throw new CliException($"--test-fraction must lie in (0, 1); got {r.TestFraction}.");
        if (r.Threads is < 1) throw new CliException($"--threads must be at least 1; got {r.Threads}.");
        if (r.EmaDecay is { } ema && !(ema >= 0 && ema < 1)) throw new CliException($"--ema-decay must lie in [0, 1); got {ema.ToString(CultureInfo.InvariantCulture)}.");
        if (r.EmaDecay is not null && r.NoEma) throw new CliException("--ema-decay sets the EMA that --no-ema turns off; give one of them.");
        if (r.EmaDecay is not null && r.ValidationFraction == 0)
            throw new CliException("--ema-decay needs validation data to choose between the EMA and the live weights, but --validation-fraction is 0.");
        if (r.AdaptEpochs is < 1) throw new CliException($"--adapt-epochs must be at least 1; got {r.AdaptEpochs}.");
        if (r.AdaptEpochs is not null && r.NoAdaptTeacher) throw new CliException("--adapt-epochs sets the teacher adaptation that --no-adapt-teacher turns off; give one of them.");
        if (r.Init == "random" && r.AdaptEpochs is not null)
            throw new CliException("--adapt-epochs sets the adaptation of the teacher the student is selected from, which --init random skips.");
        if (r.Init == "random" && r.NoAdaptTeacher)
            throw new CliException("--no-adapt-teacher applies to weight selection; with --init random no teacher is adapted.");
        if (r.Patience is < 1) throw new CliException($"--patience must be at least 1; got {r.Patience}.");
        if (!(r.MinDelta >= 0) || double.IsInfinity(r.MinDelta)) throw new CliException($"--min-delta must be finite and at least 0; got {r.MinDelta}.");
        if (r.MinDeltaGiven && r.Patience is null) throw new CliException("--min-delta applies to early stopping; give --patience too.");
        if (r.DistillAlphaGiven && r.Distill is not ("logits" or "features")) throw new CliException("--distill-alpha weighs distillation; give --distill logits or features too.");
        if (!(r.DistillAlpha >= 0) || float.IsInfinity(r.DistillAlpha)) throw new CliException($"--distill-alpha must be finite and at least 0; got {r.DistillAlpha}.");
        if (r.DistillTemperatureGiven && r.Distill != "logits") throw new CliException("--distill-temperature applies to logit distillation; give --distill logits too.");
        if (!(r.DistillTemperature > 0) || float.IsInfinity(r.DistillTemperature)) throw new CliException($"--distill-temperature must be finite and positive; got {r.DistillTemperature}.");
        if (r.Init == "random" && r.LayerMap.Count > 0) throw new CliException("--layer-map chooses teacher layers for weight selection, which --init random skips.");
        if (r.Init == "random" && r.WholeHeads) throw new CliException("--whole-heads chooses teacher heads for weight selection, which --init random skips.");
    }

    /// <summary>The architecture of a checkpoint given without --teacher-arch, told from its keys and shapes before any work.</summary>
    static ModelSpec DetectedArchitecture(string path, CliContext context)
    {
        using var file = WeightFile.Open(path, "--teacher");
        try
        {
            var match = TeacherArchitecture.Detect(file.Tensors, "--teacher-arch");
            context.Out.WriteLine($"Teacher architecture (from the checkpoint's keys and shapes): {match}");
            return match.Spec;
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message);
        }
    }

    /// <summary>The teacher, and the input convention the student inherits from it.</summary>
    static (Teacher?, InputConvention?) TeacherFor(TrainRequest request, ModelSpec studentSpec, CliContext context, bool needed)
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
            using var import = OnnxResNetImporter.Import(path);
            if (import.Spec.Family != studentSpec.Family)
                throw new CliException($"--teacher: an ONNX teacher is imported as a {import.Spec.Family}, but the student is a {studentSpec.Family}.");
            return (Teacher.FromOnnx(path), import.Input);
        }
        var teacherSpec = request.TeacherArch is null ? DetectedArchitecture(path, context) : Specs.Resolve(request.TeacherArch, "--teacher-arch");
        if (teacherSpec.Family != studentSpec.Family)
            throw new CliException($"The teacher is a {teacherSpec.Family} but the student a {studentSpec.Family}; weight selection needs one family.");
        return (Teacher.FromFile(path, teacherSpec), teacherSpec.Input);
    }
}

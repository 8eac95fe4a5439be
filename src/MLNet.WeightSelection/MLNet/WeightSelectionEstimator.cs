using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNet.WeightSelection.MLNet;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.Onnx;
using MLNet.WeightSelection.Selection;
using MLNet.WeightSelection.Training;
using TorchSharp;

namespace MLNet.WeightSelection;

/// <summary>
/// Initializes a small image classifier (the student) from a larger pretrained one of the same family (the teacher)
/// by weight selection, trains it on the data, and returns a <see cref="WeightSelectionTransformer"/> that adds Score
/// and PredictedLabel like a multiclass trainer. Create it with <c>mlContext.Transforms.InitializeFromTeacher</c>.
/// </summary>
public sealed class WeightSelectionEstimator : IEstimator<WeightSelectionTransformer>
{
    readonly IHostEnvironment _env;
    readonly MLContext _ml;
    readonly WeightSelectionOptions _options;

    /// <summary>Creates the estimator in <paramref name="mlContext"/>.</summary>
    public WeightSelectionEstimator(MLContext mlContext, WeightSelectionOptions options)
        : this((IHostEnvironment)mlContext, options)
    {
    }

    /// <summary>Creates the estimator in an ML.NET environment (what a catalog holds).</summary>
    internal WeightSelectionEstimator(IHostEnvironment env, WeightSelectionOptions options)
    {
        _env = env ?? throw new ArgumentNullException(nameof(env));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        // Built-in transforms are created through an MLContext; a bare environment (from a catalog) gets its own,
        // while logging, progress, cancellation and GPU settings still come from the caller's environment.
        _ml = env as MLContext ?? new MLContext(EnvironmentAccess.Seed(env));
    }

    /// <summary>The options this estimator fits with.</summary>
    public WeightSelectionOptions Options => _options;

    /// <summary>
    /// Checks the input before any work: the image column is an MLImage, encoded bytes or planar float pixels; the
    /// label is a key type. Returns the input plus Score (vector of Single) and PredictedLabel (the label's key type),
    /// annotated as a multiclass trainer's columns.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or of the wrong type; the message says how to fix it.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        CheckColumnNames(_options);
        ImageColumn.Validate(inputSchema, _options.ImageColumnName);
        LabelColumn.Validate(inputSchema, _options.LabelColumnName);
        return OutputSchema.Of(_ml, inputSchema, _options.LabelColumnName, _options.ScoreColumnName, _options.PredictedLabelColumnName);
    }

    /// <summary>
    /// Reads the data once into image tensors, checks it, creates the student, selects its weights from the teacher
    /// (or keeps its random initialization), trains it, exports it to ONNX and builds the scoring transformer.
    /// Problems with the input (columns, empty data, a single class, an unreadable image, a teacher smaller than the
    /// student, whole heads without a ViT or without selection) and a missing prerequisite (ONNX Runtime's native
    /// library, a writable <see cref="WeightSelectionOptions.CheckpointDirectory"/>) are reported before training starts.
    /// </summary>
    /// <exception cref="InvalidOperationException">ONNX Runtime's native library cannot be loaded: the message names the package to add.</exception>
    /// <exception cref="IOException">The checkpoint folder cannot be written.</exception>
    /// <exception cref="OperationCanceledException">The options' token or <c>MLContext.CancelExecution()</c> stopped it (at the next batch).</exception>
    public WeightSelectionTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = _options;
        CheckColumnNames(o);
        var image = ImageColumn.Inspect(input.Schema, o.ImageColumnName);
        var label = LabelColumn.Inspect(input.Schema, o.LabelColumnName);
        if (label.ClassCount < 2)
            throw new ArgumentOutOfRangeException(nameof(input),
                $"The label column '{label.Name}' has {label.ClassCount} class; a classifier needs at least 2.");
        if (o.Initialization == Initialization.WeightSelection && o.Teacher is null)
            throw new ArgumentException("WeightSelectionOptions.Teacher is required for weight selection (or set Initialization = Initialization.Random).");
        if (o.Distillation is not null && o.Teacher is null)
            throw new ArgumentException($"Distillation {o.Distillation} needs WeightSelectionOptions.Teacher.");
        if (!(o.ValidationFraction >= 0 && o.ValidationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(o.ValidationFraction), o.ValidationFraction, "ValidationFraction must be in [0, 1).");
        if (o.Ema is not null && o.ValidationSet is null && o.ValidationFraction == 0)
            throw new ArgumentException("WeightSelectionOptions.Ema needs validation data to choose between the EMA and the live weights: set ValidationFraction > 0 or give a ValidationSet.");
        int seed = o.Seed ?? EnvironmentAccess.Seed(_env) ?? 0;
        var training = TrainingOptionsFrom(o, seed);
        training.Validate();
        CheckPrerequisites(o);

        using var channel = _env.Start("InitializeFromTeacher");
        void Log(string message) => channel.Info(MessageSensitivity.None, message);
        using var cancel = new FitCancellation(_env, o.CancellationToken);
        try
        {
            var spec = StudentFactory.Spec(o, label.ClassCount);
            StudentFactory.CheckWholeHeads(o, spec);
            using var teacher = o.Teacher?.Open();
            var student = StudentFactory.Create(spec, seed);
            try
            {
                student.Input = teacher?.Input ?? spec.Input;
                var selection = o.Initialization == Initialization.WeightSelection ? StudentFactory.Selection(o, teacher!.Spec, spec) : null;
                if (selection is not null)
                    StudentFactory.CheckSelectable(teacher!, student, selection);
                if (o.Distillation is LogitDistillation && teacher!.Model.NumClasses != label.ClassCount)
                    throw new ArgumentException(
                        $"Logit distillation needs a teacher whose classifier has the label's {label.ClassCount} classes, but {o.Teacher!.Description} has {teacher.Model.NumClasses}. " +
                        "Use DistillationOptions.Features, or a teacher fine-tuned on these classes.");

                var device = DeviceChoice.Resolve(o.Device, _env, Log);
                var (steps, temporaries) = PixelPipeline.Build(_ml, image, spec.ImageSize);
                var pixels = steps.Fit(input);
                var (train, validation, skipped) = ReadTrainingData(pixels, input, image, label, spec.ImageSize, seed, cancel, Log);
                using (train)
                using (validation)
                {
                    SelectionReport? report = null;
                    if (selection is not null)
                    {
                        report = WeightSelector.SelectInto(teacher!.Weights, student, null, selection with { ClassifierKeys = student.ClassifierKeys });
                        Log($"Selected the student's weights from {o.Teacher!.Description}: {report.Rows.Count(r => r.TeacherKey is not null)} of {report.Rows.Count} tensors " +
                            $"({report.LayerSelection}, {report.ElementSelection}).");
                    }
                    cancel.ThrowIfCanceled();

                    student.to(device);
                    var teacherModel = o.Distillation is null ? null : teacher!.Model;
                    teacherModel?.to(device);
                    var result = Train(training, student, train, validation, teacherModel, cancel, Log);

                    student.to(torch.CPU);
                    student.eval();
                    var onnx = OnnxExporter.ExportToBytes(student, new OnnxExportOptions
                    {
                        InputName = ScoringChain.StudentInput,
                        ProbabilitiesName = ScoringChain.StudentOutput,
                        IncludeFeatures = false,
                        ImageSize = spec.ImageSize,
                    });
                    var scoring = BuildScoring(() => (pixels, temporaries, pixels.Transform(input)), onnx, label, Log);
                    return new WeightSelectionTransformer(scoring, label, o.ScoreColumnName, o.PredictedLabelColumnName,
                        student, report, result, skipped);
                }
            }
            catch
            {
                student.Dispose();
                throw;
            }
        }
        catch (OperationCanceledException e) when (!FitCancellation.IsExplained(e))
        {
            throw cancel.Explain(e);
        }
    }

    /// <summary>
    /// Checks, in milliseconds and before any data is read, what the end of <see cref="Fit"/> and every epoch need:
    /// ONNX Runtime's native library (the fitted model scores through it) and a writable checkpoint folder.
    /// </summary>
    internal static void CheckPrerequisites(WeightSelectionOptions o)
    {
        OnnxRuntimeAvailability.Ensure();
        if (o.CheckpointDirectory is { } checkpoints)
            WritableFolder.Check(checkpoints, "WeightSelectionOptions.CheckpointDirectory");
    }

    /// <summary>
    /// The scoring chain on the MLContext's GPU settings. ONNX Runtime's CPU package has no CUDA provider, and ML.NET's
    /// FallbackToCpu does not catch that, so the fallback is applied here.
    /// </summary>
    TransformerChain<ITransformer> BuildScoring(Func<(ITransformer Pixels, string[] Temporaries, IDataView PixelData)> pixels,
        byte[] onnx, LabelColumn label, Action<string> log)
    {
        var (p, temporaries, pixelData) = pixels();
        var gpu = EnvironmentAccess.Gpu(_env);
        try
        {
            return ScoringChain.Build(_ml, p, temporaries, pixelData, onnx, label, _options.ScoreColumnName, _options.PredictedLabelColumnName, gpu);
        }
        catch (Exception e) when (gpu.GpuDeviceId is { } id && e is EntryPointNotFoundException or DllNotFoundException or InvalidOperationException)
        {
            if (!gpu.FallbackToCpu)
                throw new InvalidOperationException(
                    $"ONNX Runtime could not use CUDA device {id} (MLContext.GpuDeviceId) to score: {e.Message} " +
                    "Reference Microsoft.ML.OnnxRuntime.Gpu, or set MLContext.FallbackToCpu = true.", e);
            log($"ONNX Runtime could not use CUDA device {id} ({e.Message}); the model scores on the CPU (FallbackToCpu).");
            return ScoringChain.Build(_ml, p, temporaries, pixelData, onnx, label, _options.ScoreColumnName, _options.PredictedLabelColumnName, (null, false));
        }
    }

    (ImageTensorDataset Train, ImageTensorDataset? Validation, int Skipped) ReadTrainingData(ITransformer pixels, IDataView input,
        ImageColumn image, LabelColumn label, int imageSize, int seed, FitCancellation cancel, Action<string> log)
    {
        var o = _options;
        var (all, skipped) = ReadData.Read(pixels, input, image, label, imageSize, o.SkipUnreadableImages, cancel.ThrowIfCanceled, log,
            "training data", requireTwoClasses: true);
        try
        {
            if (o.ValidationSet is { } validationSet)
            {
                var validationImage = ImageColumn.Inspect(validationSet.Schema, o.ImageColumnName);
                var validationLabel = LabelColumn.Inspect(validationSet.Schema, o.LabelColumnName);
                if (validationImage.Kind != image.Kind || validationImage.Channels != image.Channels
                    || validationImage.Height != image.Height || validationImage.Width != image.Width)
                    throw new ArgumentException($"The ValidationSet's image column '{image.Name}' is {validationSet.Schema[image.Name].Type}, unlike the training data's {input.Schema[image.Name].Type}.");
                if (validationLabel.ClassCount != label.ClassCount)
                    throw new ArgumentException($"The ValidationSet's label '{label.Name}' has {validationLabel.ClassCount} classes but the training data's has {label.ClassCount}; map both with the same MapValueToKey.");
                var (validation, skippedValidation) = ReadData.Read(pixels, validationSet, image, label, imageSize, o.SkipUnreadableImages,
                    cancel.ThrowIfCanceled, log, "validation set", requireTwoClasses: false);
                return (all, validation, skipped + skippedValidation);
            }
            if (o.ValidationFraction > 0)
            {
                var (train, validation) = all.Split(o.ValidationFraction, seed);
                all.Dispose();
                log($"Holding out {validation.Count} of {train.Count + validation.Count} images for validation (ValidationFraction {o.ValidationFraction}).");
                return (train, validation, skipped);
            }
            return (all, null, skipped);
        }
        catch
        {
            all.Dispose();
            throw;
        }
    }

    TrainingResult Train(TrainingOptions training, ImageClassifier student, ImageTensorDataset train, ImageTensorDataset? validation,
        ImageClassifier? teacher, FitCancellation cancel, Action<string> log)
    {
        using var progress = _env.StartProgressChannel("InitializeFromTeacher");
        EpochMetrics? last = null;
        progress.SetHeader(new ProgressHeader(new[] { "train loss", "validation accuracy" }, new[] { "epochs" }), entry =>
        {
            var current = last;
            entry.SetProgress(0, current?.Epoch ?? 0, training.Epochs);
            if (current is null) return;
            entry.SetMetric(0, current.TrainLoss);
            entry.SetMetric(1, current.ValidationAccuracy);
        });
        var trainer = new ImageClassifierTrainer(training);
        return trainer.Train(student, train, validation, teacher,
            onEpoch: metrics =>
            {
                last = metrics;
                progress.Checkpoint(metrics.TrainLoss, metrics.ValidationAccuracy, metrics.Epoch);
                _options.MetricsCallback?.Invoke(metrics);
                // A stop asked for during the epoch (or by the callback) takes effect here at the latest.
                cancel.ThrowIfCanceled();
            },
            log: log, cancellationToken: cancel.Token);
    }

    static TrainingOptions TrainingOptionsFrom(WeightSelectionOptions o, int seed) => new()
    {
        Epochs = o.Epochs,
        BatchSize = o.BatchSize,
        LearningRate = o.LearningRate,
        WeightDecay = o.WeightDecay,
        WarmupEpochs = o.WarmupEpochs,
        LabelSmoothing = o.LabelSmoothing,
        Augmentation = o.Augmentation,
        Seed = seed,
        EarlyStopping = o.EarlyStopping,
        CheckpointDirectory = o.CheckpointDirectory,
        Threads = o.Threads,
        Distillation = o.Distillation,
        Ema = o.Ema,
    };

    static void CheckColumnNames(WeightSelectionOptions o)
    {
        foreach (var (name, value) in new[]
        {
            (nameof(o.LabelColumnName), o.LabelColumnName), (nameof(o.ImageColumnName), o.ImageColumnName),
            (nameof(o.ScoreColumnName), o.ScoreColumnName), (nameof(o.PredictedLabelColumnName), o.PredictedLabelColumnName),
        })
            if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"{name} must name a column.");
        if (o.ScoreColumnName == o.PredictedLabelColumnName)
            throw new ArgumentException($"ScoreColumnName and PredictedLabelColumnName are both '{o.ScoreColumnName}'; they must differ.");
    }
}

using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNet.WeightSelection.Checkpoints;
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
        if (o.Distillation is { IsOff: false } && o.Teacher is null)
            throw new ArgumentException($"Distillation {o.Distillation} needs WeightSelectionOptions.Teacher.");
        if (!(o.ValidationFraction >= 0 && o.ValidationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(o.ValidationFraction), o.ValidationFraction, "ValidationFraction must be in [0, 1).");
        bool hasValidation = o.ValidationSet is not null || o.ValidationFraction > 0;
        if (o.Ema is { IsOff: false } && !hasValidation)
            throw new ArgumentException("WeightSelectionOptions.Ema needs validation data to choose between the EMA and the live weights: set ValidationFraction > 0 or give a ValidationSet.");
        int seed = o.Seed ?? EnvironmentAccess.Seed(_env) ?? 0;
        var settings = RecipeSettingsFrom(o);
        bool selects = o.Initialization == Initialization.WeightSelection;
        // The recipe is fitted again once the data is read; this provisional fit checks the explicit settings (and
        // what they imply for the teacher) in milliseconds, before any image is decoded.
        var provisional = TrainingRecipe.Fit(settings, new DataProfile(1000, hasValidation ? 100 : 0, label.ClassCount, o.ImageSize ?? 64, selects), seed,
            t => ConfigureRun(t, o));
        CheckPrerequisites(o);

        using var channel = _env.Start("InitializeFromTeacher");
        void Log(string message) => channel.Info(MessageSensitivity.None, message);
        using var cancel = new FitCancellation(_env, o.CancellationToken);
        try
        {
            var architecture = StudentFactory.Architecture(o);
            int imageSize = TrainingRecipe.ImageSize(o.ImageSize, o.ImageSize is null ? SourceImageSide.Measure(input, image) : null,
                architecture.ImageSize, architecture.ImageSizeMultiple);
            var spec = StudentFactory.Spec(o, architecture, label.ClassCount, imageSize);
            StudentFactory.CheckWholeHeads(o, spec);
            var studentFamily = ModelFamilies.Get(spec.Family);
            using var teacher = o.Teacher?.Open();
            if (teacher?.Note is { } note) Log(note);
            var student = StudentFactory.Create(spec, seed);
            ImageClassifier? adaptedTeacher = null;
            try
            {
                student.Input = teacher?.Input ?? spec.Input;
                var selection = selects ? StudentFactory.Selection(o, teacher!.Spec, spec) with { ClassifierKeys = student.ClassifierKeys } : null;
                var plan = selection is null ? null : StudentFactory.CheckSelectable(teacher!, student, selection);
                // Fitted again now that the image sizes are known: they decide whether the teacher is adapted by default.
                // The image count is not known yet, so this fit assumes the smallest data (one image per class), where
                // the default adapts whenever the sizes say so; the check is repeated once the data is read.
                var early = teacher is null ? provisional : TrainingRecipe.Fit(settings,
                    new DataProfile(label.ClassCount, hasValidation ? 100 : 0, label.ClassCount, spec.ImageSize, selects, teacher.Spec.ImageSize, studentFamily), seed, t => ConfigureRun(t, o));
                CheckLogitTeacher(early, teacher, label.ClassCount, o);

                var device = DeviceChoice.Resolve(o.Device, _env, Log);
                var (steps, temporaries) = PixelPipeline.Build(_ml, image, spec.ImageSize);
                var pixels = steps.Fit(input);
                var (train, validation, skipped) = ReadTrainingData(pixels, input, image, label, spec.ImageSize, seed, cancel, Log);
                using (train)
                using (validation)
                {
                    var recipe = TrainingRecipe.Fit(settings, new DataProfile(train.Count, validation?.Count ?? 0, label.ClassCount, spec.ImageSize, selects, teacher?.Spec.ImageSize, studentFamily), seed,
                        t => ConfigureRun(t, o));
                    Log(recipe.Summary);
                    CheckLogitTeacher(recipe, teacher, label.ClassCount, o);
                    o.RecipeCallback?.Invoke(recipe);

                    TrainingResult? adaptation = null;
                    var teacherWeights = teacher?.Weights;
                    if (recipe.TeacherAdaptation is { } adaptationRun)
                    {
                        adaptationRun.Threads = o.Threads;
                        if (o.CheckpointDirectory is { } folder) adaptationRun.CheckpointDirectory = Path.Combine(folder, "teacher-adaptation");
                        (adaptedTeacher, adaptation) = AdaptTeacher(teacher!, adaptationRun, train, validation, device, cancel, Log);
                        teacherWeights = StateDict.FromModule(adaptedTeacher, "adapted teacher");
                    }

                    SelectionReport? report = null;
                    try
                    {
                        if (selection is not null)
                        {
                            // The plan checked before reading any image serves, unless adaptation changed the teacher:
                            // an adapted teacher has other classes (and, for a ViT at another size, other position
                            // embeddings), so it is planned again.
                            report = adaptedTeacher is null
                                ? WeightSelector.SelectInto(plan!, teacherWeights!, student, selection)
                                : WeightSelector.SelectInto(teacherWeights!, student, null, selection);
                            Log($"Selected the student's weights from {(adaptedTeacher is null ? "" : "the adapted ")}{o.Teacher!.Description}: {report.Rows.Count(r => r.TeacherKey is not null)} of {report.Rows.Count} tensors " +
                                $"({report.LayerSelection}, {report.ElementSelection}).");
                        }
                    }
                    finally
                    {
                        if (adaptedTeacher is not null) teacherWeights?.Dispose();
                    }
                    cancel.ThrowIfCanceled();

                    student.to(device);
                    var teacherModel = recipe.Student.Distillation is null ? null : adaptedTeacher ?? teacher!.Model;
                    teacherModel?.to(device);
                    var result = Train(recipe.Student, student, train, validation, teacherModel, cancel, Log);

                    student.to(torch.CPU);
                    student.eval();
                    var onnx = OnnxExporter.ExportToBytes(student, new OnnxExportOptions
                    {
                        InputName = ScoringChain.StudentInput,
                        ProbabilitiesName = ScoringChain.StudentOutput,
                        IncludeFeatures = false,
                        ImageSize = spec.ImageSize,
                    });
                    var (scoring, onCpu) = BuildScoring(() => (pixels, temporaries, pixels.Transform(input)), onnx, label, Log);
                    return new WeightSelectionTransformer(scoring, onCpu ? new BatchedStudent(onnx) : null, label, o.ScoreColumnName, o.PredictedLabelColumnName,
                        student, report, result, skipped, recipe, adaptation);
                }
            }
            catch
            {
                student.Dispose();
                throw;
            }
            finally
            {
                adaptedTeacher?.Dispose();
            }
        }
        catch (OperationCanceledException e) when (!FitCancellation.IsExplained(e))
        {
            throw cancel.Explain(e);
        }
    }

    /// <summary>Logit distillation from a teacher used as given needs its classifier to have the label's classes.</summary>
    static void CheckLogitTeacher(FittedRecipe recipe, TeacherHandle? teacher, int classes, WeightSelectionOptions o)
    {
        if (recipe.Student.Distillation is not LogitDistillation || recipe.TeacherAdaptation is not null || teacher is null || teacher.Model.NumClasses == classes) return;
        throw new ArgumentException(
            $"Logit distillation needs a teacher whose classifier has the label's {classes} classes, but {o.Teacher!.Description} has {teacher.Model.NumClasses}" +
            (recipe.Choices.FirstOrDefault(c => c.Name == nameof(RecipeSettings.TeacherAdaptation)) is { WasSet: false, Reason: { Length: > 0 } why } ? $", and the recipe does not adapt it ({why})" : "") + ". " +
            "Set TeacherAdaptation = new TeacherAdaptationOptions() (it gives the teacher these classes), use DistillationOptions.Features, or a teacher fine-tuned on these classes.");
    }

    /// <summary>Fine-tunes a copy of the teacher (<see cref="TeacherAdaptation"/>), reporting progress like the student's training.</summary>
    (ImageClassifier Teacher, TrainingResult Result) AdaptTeacher(TeacherHandle teacher, TrainingOptions run, ImageTensorDataset train,
        ImageTensorDataset? validation, torch.Device device, FitCancellation cancel, Action<string> log)
    {
        using var progress = _env.StartProgressChannel("AdaptTeacher");
        EpochMetrics? last = null;
        progress.SetHeader(new ProgressHeader(new[] { "train loss", "validation accuracy" }, new[] { "epochs" }), entry =>
        {
            var current = last;
            entry.SetProgress(0, current?.Epoch ?? 0, run.Epochs);
            if (current is null) return;
            entry.SetMetric(0, current.TrainLoss);
            entry.SetMetric(1, current.ValidationAccuracy);
        });
        return TeacherAdaptation.Adapt(teacher.Weights, teacher.Spec, teacher.Input, train, validation, run, device,
            onEpoch: metrics =>
            {
                last = metrics;
                progress.Checkpoint(metrics.TrainLoss, metrics.ValidationAccuracy, metrics.Epoch);
                _options.TeacherAdaptationMetricsCallback?.Invoke(metrics);
                cancel.ThrowIfCanceled();
            },
            log: m => log($"[teacher adaptation] {m}"), cancellationToken: cancel.Token);
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
        if (o.PixelCacheDirectory is { } pixelCache)
            WritableFolder.Check(pixelCache, "WeightSelectionOptions.PixelCacheDirectory");
    }

    /// <summary>
    /// The scoring chain on the MLContext's GPU settings. ONNX Runtime's CPU package has no CUDA provider, and ML.NET's
    /// FallbackToCpu does not catch that, so the fallback is applied here.
    /// </summary>
    /// <returns>The chain, and whether it scores on the CPU (where <see cref="WeightSelectionTransformer.Transform"/> batches rows).</returns>
    (TransformerChain<ITransformer> Chain, bool OnCpu) BuildScoring(Func<(ITransformer Pixels, string[] Temporaries, IDataView PixelData)> pixels,
        byte[] onnx, LabelColumn label, Action<string> log)
    {
        var (p, temporaries, pixelData) = pixels();
        var gpu = EnvironmentAccess.Gpu(_env);
        try
        {
            return (ScoringChain.Build(_ml, p, temporaries, pixelData, onnx, label, _options.ScoreColumnName, _options.PredictedLabelColumnName, gpu), gpu.GpuDeviceId is null);
        }
        catch (Exception e) when (gpu.GpuDeviceId is { } id && e is EntryPointNotFoundException or DllNotFoundException or InvalidOperationException)
        {
            if (!gpu.FallbackToCpu)
                throw new InvalidOperationException(
                    $"ONNX Runtime could not use CUDA device {id} (MLContext.GpuDeviceId) to score: {e.Message} " +
                    "Reference Microsoft.ML.OnnxRuntime.Gpu, or set MLContext.FallbackToCpu = true.", e);
            log($"ONNX Runtime could not use CUDA device {id} ({e.Message}); the model scores on the CPU (FallbackToCpu).");
            return (ScoringChain.Build(_ml, p, temporaries, pixelData, onnx, label, _options.ScoreColumnName, _options.PredictedLabelColumnName, (null, false)), true);
        }
    }

    (ImageTensorDataset Train, ImageTensorDataset? Validation, int Skipped) ReadTrainingData(ITransformer pixels, IDataView input,
        ImageColumn image, LabelColumn label, int imageSize, int seed, FitCancellation cancel, Action<string> log)
    {
        var o = _options;
        var cache = o.PixelCacheDirectory is { } folder ? new PixelCache(folder) : null;
        var (all, skipped) = ReadData.Read(_ml, pixels, input, image, label, imageSize, o.SkipUnreadableImages, cancel.ThrowIfCanceled, log,
            "training data", requireTwoClasses: true, o.Threads, cache);
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
                var (validation, skippedValidation) = ReadData.Read(_ml, pixels, validationSet, image, label, imageSize, o.SkipUnreadableImages,
                    cancel.ThrowIfCanceled, log, "validation set", requireTwoClasses: false, o.Threads, cache);
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

    /// <summary>The recipe settings of the options: nulls are fitted to the data.</summary>
    internal static RecipeSettings RecipeSettingsFrom(WeightSelectionOptions o) => new()
    {
        ImageSize = o.ImageSize,
        Epochs = o.Epochs,
        BatchSize = o.BatchSize,
        LearningRate = o.LearningRate,
        WarmupEpochs = o.WarmupEpochs,
        Augmentation = o.Augmentation,
        RandAugment = o.RandAugment,
        Ema = o.Ema,
        Distillation = o.Distillation,
        TeacherAdaptation = o.TeacherAdaptation,
        WeightDecay = o.WeightDecay,
        LabelSmoothing = o.LabelSmoothing,
    };

    /// <summary>The settings of the student's run that are not part of the recipe.</summary>
    static void ConfigureRun(TrainingOptions t, WeightSelectionOptions o)
    {
        t.EarlyStopping = o.EarlyStopping;
        t.CheckpointDirectory = o.CheckpointDirectory;
        t.Threads = o.Threads;
    }

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

using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// Trains an <see cref="ImageClassifier"/> on cached images with the paper's recipe (see <see cref="TrainingOptions"/>),
/// optionally distilling from a teacher, and evaluates classifiers over whole datasets.
/// </summary>
public sealed class ImageClassifierTrainer
{
    /// <summary>Creates a trainer; the options are validated here.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public ImageClassifierTrainer(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The options this trainer uses.</summary>
    public TrainingOptions Options { get; }

    /// <summary>
    /// Whether CPU training steps may use libtorch's oneDNN convolutions (process-wide). Default: true. Training
    /// checks their gradients first and falls back to ATen's convolution when they are wrong. Eval-mode forwards (the
    /// distillation teacher, validation, <c>Evaluate</c>) always use ATen's convolution, because the oneDNN
    /// inside TorchSharp-cpu 0.107 sometimes returns wrong values or NaN there after a training step. Set false to
    /// train with ATen's convolution only (2–3.4× slower training steps for ResNet and ConvNeXt on the project's machine).
    /// </summary>
    public static bool UseOneDnnConvolutions { get; set; } = true;

    /// <summary>Called after every optimizer step (on the training thread; keep it cheap). Default: null.</summary>
    public Action<StepProgress>? OnStep { get; set; }

    /// <summary>
    /// Trains <paramref name="student"/> in place on <paramref name="train"/>, evaluating on the whole of
    /// <paramref name="validation"/> after every epoch. Training runs on the device of the student's parameters.
    /// </summary>
    /// <param name="student">The model to train; its classifier must have <c>train.NumClasses</c> outputs.</param>
    /// <param name="train">Training images.</param>
    /// <param name="validation">Validation images (same classes and image size), or null.</param>
    /// <param name="teacher">The teacher for <see cref="TrainingOptions.Distillation"/> (required then, ignored otherwise).</param>
    /// <param name="onEpoch">Called after each epoch (after its checkpoint is written) with that epoch's metrics.</param>
    /// <param name="log">Receives progress lines, including each epoch's metrics line (so <paramref name="onEpoch"/> need not print them).</param>
    /// <param name="cancellationToken">Checked before every batch; cancellation throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>The history and how training ended. The student holds the best epoch's weights under early stopping, else the last.</returns>
    /// <exception cref="ArgumentException">Classes, image sizes or the teacher do not fit together; raised before any training.</exception>
    /// <exception cref="InvalidOperationException">The checkpoint in <see cref="TrainingOptions.CheckpointDirectory"/> came from different options.</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public TrainingResult Train(ImageClassifier student, ImageTensorDataset train, ImageTensorDataset? validation,
        ImageClassifier? teacher = null, Action<EpochMetrics>? onEpoch = null, Action<string>? log = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(train);
        Options.Validate();
        CheckCompatible(student, train, validation, teacher);
        using (NativeRuntimePolicy.AtenConvolutions()) // every eval-mode forward of the trainer uses ATen's convolution
        {
            Probe(student, "student", train.ImageSize, features: Options.Distillation is FeatureDistillation);
            if (teacher is not null && Options.Distillation is not null)
                Probe(teacher, "teacher", train.ImageSize, features: Options.Distillation is FeatureDistillation);
        }
        if (teacher is not null && Options.Distillation is null)
            log?.Invoke("A teacher was given without TrainingOptions.Distillation; it is not used during training.");

        bool studentWasTraining = student.training;
        bool teacherWasTraining = teacher?.training ?? false;
        var threads = NativeRuntimePolicy.UseThreads(Options.Threads ?? Environment.ProcessorCount);
        try
        {
            bool oneDnnSteps = ModelDevice(student).type == DeviceType.CPU && NativeRuntimePolicy.ConfigureConvolutions(UseOneDnnConvolutions, log ?? (_ => { }));
            using var run = new TrainingRun(Options, student, train, validation, Options.Distillation is null ? null : teacher, onEpoch, OnStep, log, cancellationToken, oneDnnSteps);
            return run.Run();
        }
        finally
        {
            threads.Dispose();
            student.train(studentWasTraining);
            teacher?.train(teacherWasTraining);
        }
    }

    void CheckCompatible(ImageClassifier student, ImageTensorDataset train, ImageTensorDataset? validation, ImageClassifier? teacher)
    {
        if (student.NumClasses != train.NumClasses)
            throw new ArgumentException($"The student's classifier has {student.NumClasses} classes but the training data has {train.NumClasses}; call ResetClassifier({train.NumClasses}) first.", nameof(student));
        if (validation is not null)
        {
            if (validation.NumClasses != train.NumClasses)
                throw new ArgumentException($"The validation data has {validation.NumClasses} classes but the training data has {train.NumClasses}.", nameof(validation));
            if (validation.ImageSize != train.ImageSize)
                throw new ArgumentException($"Validation images are {validation.ImageSize} px but training images are {train.ImageSize} px.", nameof(validation));
        }
        if (Options.Augmentation.RandomCropPadding >= train.ImageSize)
            throw new ArgumentException(
                $"Augmentation.RandomCropPadding is {Options.Augmentation.RandomCropPadding} px, but the images are {train.ImageSize} px: reflection padding must be smaller than the image side.");
        if (Options.Ema is not null && validation is null)
            throw new ArgumentException(
                "TrainingOptions.Ema needs validation data: the EMA weights are kept only when they score better on validation than the live weights. " +
                "Pass a validation set, or set Ema to null.", nameof(validation));
        switch (Options.Distillation)
        {
            case null:
                break;
            case LogitDistillation when teacher is null:
            case FeatureDistillation when teacher is null:
                throw new ArgumentException($"Distillation {Options.Distillation} needs a teacher, but none was given.", nameof(teacher));
            case LogitDistillation when teacher!.NumClasses != student.NumClasses:
                throw new ArgumentException(
                    $"Logit distillation needs a teacher whose classifier has the student's {student.NumClasses} classes, but the teacher has {teacher.NumClasses}. " +
                    "Use feature distillation (DistillationOptions.Features), or a teacher fine-tuned on these classes.", nameof(teacher));
            case FeatureDistillation when teacher!.NumFeatures < 1 || student.NumFeatures < 1:
                throw new ArgumentException($"Feature distillation needs pooled features on both models; the student has {student.NumFeatures} and the teacher {teacher.NumFeatures}.", nameof(teacher));
            case LogitDistillation or FeatureDistillation:
                break;
            default:
                throw new ArgumentException($"Unknown distillation kind {Options.Distillation.GetType().Name}.");
        }
    }

    /// <summary>
    /// Runs two blank images through <paramref name="model"/> (eval mode, no_grad) so that a model that cannot take
    /// this image size, or whose outputs do not match its declared widths, fails with a clear message before training.
    /// </summary>
    static void Probe(ImageClassifier model, string role, int imageSize, bool features)
    {
        bool wasTraining = model.training;
        model.eval();
        long[] shape;
        long[] expected = features ? new long[] { 2, model.NumFeatures } : new long[] { 2, model.NumClasses };
        try
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            var input = InputNormalization.Apply(zeros(new long[] { 2, 3, imageSize, imageSize }, ScalarType.Byte, ModelDevice(model)), model.Input);
            shape = (features ? model.ForwardPreLogits(input) : model.forward(input)).shape;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // libtorch appends its C++ stack trace to the message; the first line says what is wrong.
            string reason = e.Message.Split('\n', 2)[0].Trim();
            throw new ArgumentException($"The {role} ({model.Spec.Family}) cannot take {imageSize}×{imageSize} images: {reason}", role == "student" ? "student" : "teacher", e);
        }
        finally
        {
            model.train(wasTraining);
        }
        if (!shape.SequenceEqual(expected))
            throw new ArgumentException(
                $"The {role} ({model.Spec.Family}) gives {(features ? "pooled features" : "logits")} of shape [{string.Join(", ", shape)}] for 2 images, but declares [{string.Join(", ", expected)}].",
                role == "student" ? "student" : "teacher");
    }

    /// <summary>
    /// Evaluates <paramref name="model"/> in eval mode under no_grad on every image of <paramref name="data"/>
    /// (normalized with the model's input convention): top-1 and top-5 accuracy, mean cross-entropy and the confusion
    /// matrix. The model's training flag is restored afterwards.
    /// </summary>
    /// <exception cref="ArgumentException">The model's class count differs from the data's, or <paramref name="batchSize"/> &lt; 1.</exception>
    public static EvaluationMetrics Evaluate(ImageClassifier model, ImageTensorDataset data, int batchSize = 256) =>
        Evaluate(model, data, batchSize, CancellationToken.None);

    /// <summary>As <see cref="Evaluate(ImageClassifier, ImageTensorDataset, int)"/>, checking <paramref name="cancellationToken"/> before every batch.</summary>
    public static EvaluationMetrics Evaluate(ImageClassifier model, ImageTensorDataset data, int batchSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (batchSize < 1) throw new ArgumentException($"The batch size must be at least 1; got {batchSize}.", nameof(batchSize));
        if (model.NumClasses != data.NumClasses)
            throw new ArgumentException($"The model has {model.NumClasses} classes but the data has {data.NumClasses}.", nameof(data));

        int classes = data.NumClasses, k = Math.Min(5, classes);
        var confusion = new long[classes, classes];
        long correct = 0, top5 = 0;
        double lossSum = 0;
        var device = ModelDevice(model);
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            using var aten = NativeRuntimePolicy.AtenConvolutions(); // see UseOneDnnConvolutions
            for (int start = 0; start < data.Count; start += batchSize)
            {
                if (cancellationToken.IsCancellationRequested)
                    throw new OperationCanceledException($"Evaluation was cancelled after {start} of {data.Count} images.", cancellationToken);
                int length = Math.Min(batchSize, data.Count - start);
                using var scope = NewDisposeScope();
                var (rowImages, rowLabels) = data.Range(start, length);
                var images = rowImages.to(device);
                var labels = rowLabels.to(device);
                var logits = model.forward(InputNormalization.Apply(images, model.Input)).to_type(ScalarType.Float32);
                lossSum += nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).item<float>();
                var predicted = logits.argmax(1);
                correct += predicted.eq(labels).sum().item<long>();
                top5 += logits.topk(k, 1).indexes.eq(labels.unsqueeze(1)).any(1).sum().item<long>();
                var p = predicted.cpu().data<long>().ToArray();
                for (int i = 0; i < length; i++) confusion[data.LabelValues[start + i], p[i]]++;
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        return new EvaluationMetrics(data.Count, correct, top5, lossSum, confusion);
    }

    internal static Device ModelDevice(nn.Module model) =>
        model.parameters().FirstOrDefault()?.device ?? CPU;
}

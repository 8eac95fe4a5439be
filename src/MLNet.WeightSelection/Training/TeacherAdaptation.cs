using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Selection;
using TorchSharp;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// Fine-tunes a copy of a teacher on the student's data: same architecture, the student's image size (a ViT's position
/// embeddings are resampled to it), a fresh classifier for the data's classes, every other weight taken from the
/// teacher. The result is the teacher the student is then selected from and distilled from.
/// </summary>
public static class TeacherAdaptation
{
    /// <summary>
    /// Builds the adapted copy and trains it with <paramref name="options"/> (no distillation, no EMA). The teacher's
    /// tensors are only read. With <see cref="TrainingOptions.CheckpointDirectory"/> set, an interrupted adaptation
    /// resumes from there and a finished one is not repeated.
    /// </summary>
    /// <param name="teacherWeights">The teacher's tensors under timm's names.</param>
    /// <param name="teacherSpec">The teacher's architecture.</param>
    /// <param name="input">The teacher's input convention, which the adapted copy keeps.</param>
    /// <param name="train">Training images at the student's image size.</param>
    /// <param name="validation">Validation images, or null.</param>
    /// <param name="options">The adaptation's training recipe.</param>
    /// <param name="device">Where to train; null: the CPU.</param>
    /// <param name="onEpoch">Called after each epoch of the adaptation.</param>
    /// <param name="log">Receives progress lines.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    /// <returns>The adapted teacher (the caller owns it) and its training history.</returns>
    public static (ImageClassifier Teacher, TrainingResult Result) Adapt(ITensorSource teacherWeights, ModelSpec teacherSpec, InputConvention input,
        ImageTensorDataset train, ImageTensorDataset? validation, TrainingOptions options, TorchSharp.torch.Device? device = null,
        Action<EpochMetrics>? onEpoch = null, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(teacherWeights);
        ArgumentNullException.ThrowIfNull(teacherSpec);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Distillation is not null || options.Ema is not null)
            throw new ArgumentException("Teacher adaptation trains the teacher alone: its TrainingOptions take no Distillation and no Ema.", nameof(options));
        options.Validate();

        var spec = ModelRegistry.WithOverrides(teacherSpec, train.NumClasses, train.ImageSize);
        TorchSharp.torch.manual_seed(RandomSource.EpochSeed(options.Seed, 0, stream: 3));
        var adapted = spec.CreateModel();
        try
        {
            adapted.Input = input;
            // Selecting into a model of the teacher's own widths copies every tensor (resampling a ViT's position
            // embeddings to the new size) and leaves the new classifier with its own initialization.
            WeightSelector.SelectInto(teacherWeights, adapted, null, new SelectionOptions { ClassifierKeys = adapted.ClassifierKeys });
            if (device is not null) adapted.to(device);
            log?.Invoke($"Adapting the teacher ({teacherSpec.Family}) to {train.NumClasses} classes at {train.ImageSize} px before selecting the student.");
            var result = new ImageClassifierTrainer(options).Train(adapted, train, validation, null, onEpoch, log, cancellationToken);
            return (adapted, result);
        }
        catch
        {
            adapted.Dispose();
            throw;
        }
    }
}

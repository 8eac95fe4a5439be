namespace MLNet.WeightSelection.Training;

/// <summary>
/// The training recipe (the paper's Appendix A, scaled by these options): AdamW without weight decay on norms,
/// biases, position embeddings and class tokens; a per-iteration cosine schedule with linear warmup; label smoothing
/// (soft-target cross-entropy under mixup/cutmix); tensor augmentation; optional distillation, early stopping and
/// resumable checkpoints. Drop path and dropout come from the model itself.
/// </summary>
public sealed class TrainingOptions
{
    /// <summary>Passes over the training set. Default: 10.</summary>
    public int Epochs { get; set; } = 10;

    /// <summary>Images per optimizer step; every image is used once per epoch, except that a last batch of a single image is dropped (BatchNorm needs two). Default: 64.</summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>Peak learning rate of AdamW, reached at the end of warmup. Default: 1e-3.</summary>
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Learning rate at the start of warmup and at the end of the cosine decay. Default: 1e-6 (capped at <see cref="LearningRate"/>).</summary>
    public double MinLearningRate { get; set; } = 1e-6;

    /// <summary>AdamW's decoupled weight decay, applied to weights with two or more axes only. Default: 0.05.</summary>
    public double WeightDecay { get; set; } = 0.05;

    /// <summary>Epochs of linear warmup (fractions allowed; counted in steps). Default: 1.</summary>
    public double WarmupEpochs { get; set; } = 1;

    /// <summary>Label smoothing ε: the target puts 1 − ε + ε/K on the true class and ε/K on the others. Default: 0.1.</summary>
    public double LabelSmoothing { get; set; } = 0.1;

    /// <summary>Per-batch augmentation. Default: <see cref="AugmentationOptions.Default"/>.</summary>
    public AugmentationOptions Augmentation { get; set; } = AugmentationOptions.Default;

    /// <summary>
    /// Seed of the shuffles, augmentations, dropout and drop path, reseeded per epoch from (Seed, epoch) so that a
    /// resumed run repeats an uninterrupted one. Dropout and drop path draw from libtorch's process-wide generator:
    /// runs are reproducible when no other code uses it concurrently in the same process. Default: 1.
    /// </summary>
    public int Seed { get; set; } = 1;

    /// <summary>Early stopping with patience and min-delta, restoring the best epoch's weights; null trains every epoch. Default: null.</summary>
    public EarlyStoppingOptions? EarlyStopping { get; set; }

    /// <summary>
    /// Folder for a resumable checkpoint of the last completed epoch (model, optimizer, schedule step, counters,
    /// history). Training with the same folder and options resumes from it. Null keeps nothing on disk. Default: null.
    /// </summary>
    public string? CheckpointDirectory { get; set; }

    /// <summary>Cap on TorchSharp's intra-op threads; null uses every core (<see cref="Environment.ProcessorCount"/>). Default: null.</summary>
    public int? Threads { get; set; }

    /// <summary>Knowledge distillation from the teacher passed to <see cref="ImageClassifierTrainer.Train"/>; null (or <see cref="DistillationOptions.Off"/>) trains without it. Default: null.</summary>
    public DistillationOptions? Distillation { get => _distillation; set => _distillation = value is { IsOff: true } ? null : value; }

    DistillationOptions? _distillation;
    EmaOptions? _ema;

    /// <summary>
    /// An exponential moving average of the student's weights (timm's model EMA, with warmup), scored on validation
    /// after every epoch beside the live weights; the trained model keeps whichever scored better. Needs validation
    /// data. Null trains without it. Default: null.
    /// </summary>
    public EmaOptions? Ema { get => _ema; set => _ema = value is { IsOff: true } ? null : value; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"Epochs must be at least 1; got {Epochs}.");
        if (BatchSize < 1) throw new ArgumentException($"BatchSize must be at least 1; got {BatchSize}.");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentException($"LearningRate must be finite and > 0; got {LearningRate}.");
        if (!(MinLearningRate >= 0) || double.IsInfinity(MinLearningRate)) throw new ArgumentException($"MinLearningRate must be finite and >= 0; got {MinLearningRate}.");
        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay)) throw new ArgumentException($"WeightDecay must be finite and >= 0; got {WeightDecay}.");
        if (!(WarmupEpochs >= 0) || double.IsInfinity(WarmupEpochs)) throw new ArgumentException($"WarmupEpochs must be finite and >= 0; got {WarmupEpochs}.");
        if (!(LabelSmoothing >= 0 && LabelSmoothing < 1)) throw new ArgumentException($"LabelSmoothing must be in [0, 1); got {LabelSmoothing}.");
        if (Threads is { } t && t < 1) throw new ArgumentException($"Threads must be at least 1 when set; got {t}.");
        if (Augmentation is null) throw new ArgumentException("Augmentation must not be null; use AugmentationOptions.None to turn it off.");
        Augmentation.Validate();
        EarlyStopping?.Validate();
        Ema?.Validate();
    }
}

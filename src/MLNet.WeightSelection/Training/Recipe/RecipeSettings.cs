namespace MLNet.WeightSelection.Training;

/// <summary>
/// What a user set of the training recipe. Every null is fitted to the data by <see cref="TrainingRecipe.Fit"/>;
/// every value that is set wins as it is. The <c>Off</c> values (<see cref="EmaOptions.Off"/>,
/// <see cref="DistillationOptions.Off"/>, <see cref="TeacherAdaptationOptions.Off"/>) turn a part off explicitly.
/// </summary>
public sealed record RecipeSettings
{
    /// <summary>Side of the square training images; null: fitted from the images' own size and the architecture.</summary>
    public int? ImageSize { get; init; }

    /// <summary>Passes over the training data; null: fitted from the number of optimizer steps the data needs.</summary>
    public int? Epochs { get; init; }

    /// <summary>Images per optimizer step; null: fitted from the number of training images.</summary>
    public int? BatchSize { get; init; }

    /// <summary>Peak learning rate; null: 1e-3 at batch 64, scaled by the square root of the batch size (timm's rule for AdamW).</summary>
    public double? LearningRate { get; init; }

    /// <summary>Epochs of warmup; null: 5% of the optimizer steps.</summary>
    public double? WarmupEpochs { get; init; }

    /// <summary>Augmentation; null: fitted to the image size and the images per class.</summary>
    public AugmentationOptions? Augmentation { get; init; }

    /// <summary>
    /// RandAugment added to the augmentation, whether that is fitted or set, in place of the fitted one; null: the
    /// augmentation's own (fitted: the paper's below <see cref="TrainingRecipe.RandAugmentMaxImagesPerClass"/> images per
    /// class for students of a family that takes it, <see cref="Models.ModelFamily.SmallDataRandAugment"/>, in runs of at
    /// least <see cref="TrainingRecipe.RandAugmentMinEpochs"/> epochs); <see cref="RandAugmentOptions.Off"/>: none. It
    /// lets a user change RandAugment without fixing every other augmentation setting.
    /// </summary>
    public RandAugmentOptions? RandAugment { get; init; }

    /// <summary>Model EMA; null: on when there is validation data.</summary>
    public EmaOptions? Ema { get; init; }

    /// <summary>Distillation; null: logit distillation from the adapted teacher when the teacher is adapted, else none.</summary>
    public DistillationOptions? Distillation { get; init; }

    /// <summary>Teacher adaptation; null: fitted (<see cref="TrainingRecipe.Adapts"/>: a teacher made for another image size, fewer than <see cref="TrainingRecipe.AdaptationMaxImagesPerClass"/> images per class).</summary>
    public TeacherAdaptationOptions? TeacherAdaptation { get; init; }

    /// <summary>AdamW's weight decay (not fitted). Default: 0.05.</summary>
    public double WeightDecay { get; init; } = 0.05;

    /// <summary>Label smoothing (not fitted). Default: 0.1.</summary>
    public double LabelSmoothing { get; init; } = 0.1;
}

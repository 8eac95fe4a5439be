namespace MLNet.WeightSelection.Training;

/// <summary>
/// Per-batch augmentation on cached uint8 images, in timm's order: random resized crop (or, for small images, a
/// translation crop from reflect-padded images) and horizontal flip,
/// RandAugment (off by default), random erasing, then mixup or cutmix across the batch. Every draw comes from a generator seeded from
/// <see cref="TrainingOptions.Seed"/> and the epoch, so a seed fixes every crop, flip, box and mixing weight.
/// </summary>
public sealed class AugmentationOptions
{
    /// <summary>Crop a random area and aspect ratio of each image and resize it back to full size (bilinear). Default: true.</summary>
    public bool RandomResizedCrop { get; set; } = true;

    /// <summary>Smallest fraction of the image area a crop may cover. Default: 0.35 (timm's 0.08 is for 224 px ImageNet).</summary>
    public double CropScaleMin { get; set; } = 0.35;

    /// <summary>Largest fraction of the image area a crop may cover. Default: 1.0.</summary>
    public double CropScaleMax { get; set; } = 1.0;

    /// <summary>Smallest crop aspect ratio (width / height); drawn log-uniformly. Default: 3/4.</summary>
    public double CropRatioMin { get; set; } = 3.0 / 4.0;

    /// <summary>Largest crop aspect ratio (width / height). Default: 4/3.</summary>
    public double CropRatioMax { get; set; } = 4.0 / 3.0;

    /// <summary>
    /// The small-image crop (torchvision's <c>RandomCrop(size, padding, padding_mode="reflect")</c>, the CIFAR
    /// convention): pad each image by this many pixels on every side by reflection, then crop a random full-size window,
    /// so the image shifts by up to this many pixels and keeps its scale. 0 turns it off. It replaces
    /// <see cref="RandomResizedCrop"/>: setting both is an error. Default: 0.
    /// </summary>
    public int RandomCropPadding { get; set; }

    /// <summary>Mirror each image left to right with probability 0.5. Default: true.</summary>
    public bool HorizontalFlip { get; set; } = true;

    /// <summary>
    /// RandAugment after the crop and flip, before erasing and mixing (timm's order); null (or <see cref="RandAugmentOptions.Off"/>) turns it off. Default: null.
    /// <see cref="RandAugmentOptions.Parse"/> reads timm's <c>--aa</c> string, such as the paper's <c>rand-m9-mstd0.5-inc1</c>.
    /// </summary>
    public RandAugmentOptions? RandAugment { get; set; }

    /// <summary>Mixup's Beta(α, α) parameter; 0 disables mixup. Default: 0.8 (the paper's recipe).</summary>
    public double MixupAlpha { get; set; } = 0.8;

    /// <summary>CutMix's Beta(α, α) parameter; 0 disables cutmix. Default: 1.0 (the paper's recipe).</summary>
    public double CutmixAlpha { get; set; } = 1.0;

    /// <summary>Probability that a batch is mixed at all (mixup or cutmix). Default: 1.0 (timm's mixup_prob).</summary>
    public double MixProbability { get; set; } = 1.0;

    /// <summary>When both mixup and cutmix are on, the probability of cutmix for a mixed batch. Default: 0.5 (timm's switch_prob).</summary>
    public double SwitchProbability { get; set; } = 0.5;

    /// <summary>Probability of erasing one random rectangle of an image with noise. Default: 0.25 (the paper's recipe).</summary>
    public double RandomErasing { get; set; } = 0.25;

    /// <summary>True when this options object mixes images across the batch (mixup or cutmix can fire).</summary>
    public bool MixesBatches => MixProbability > 0 && (MixupAlpha > 0 || CutmixAlpha > 0);

    /// <summary>No augmentation at all: images go to the model as cached. A new object on each call.</summary>
    public static AugmentationOptions None => new()
    {
        RandomResizedCrop = false,
        RandomCropPadding = 0,
        HorizontalFlip = false,
        MixupAlpha = 0,
        CutmixAlpha = 0,
        MixProbability = 0,
        RandomErasing = 0,
    };

    /// <summary>
    /// The paper's recipe (Appendix A: random resized crop, flip, mixup 0.8, cutmix 1.0, random erasing 0.25) without
    /// RandAugment, with the crop scale floor raised to 0.35 for small images. A new object on each call.
    /// </summary>
    public static AugmentationOptions Default => new();

    /// <summary>A shallow copy (<see cref="RandAugment"/> is shared; it is not changed after it is made).</summary>
    internal AugmentationOptions Copy() => (AugmentationOptions)MemberwiseClone();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first value out of range.</summary>
    public void Validate()
    {
        static void Probability(double p, string name)
        {
            if (!(p >= 0 && p <= 1)) throw new ArgumentException($"Augmentation.{name} must be in [0, 1]; got {p}.");
        }
        if (RandomCropPadding < 0)
            throw new ArgumentException($"Augmentation.RandomCropPadding must be >= 0; got {RandomCropPadding}.");
        if (RandomCropPadding > 0 && RandomResizedCrop)
            throw new ArgumentException(
                $"Augmentation.RandomCropPadding ({RandomCropPadding}) and RandomResizedCrop are both on, but they are two ways to crop: turn one off.");
        if (RandomResizedCrop)
        {
            if (!(CropScaleMin > 0 && CropScaleMin <= CropScaleMax && CropScaleMax <= 1))
                throw new ArgumentException($"Augmentation crop scale must satisfy 0 < CropScaleMin <= CropScaleMax <= 1; got [{CropScaleMin}, {CropScaleMax}].");
            if (!(CropRatioMin > 0 && CropRatioMin <= CropRatioMax && !double.IsInfinity(CropRatioMax)))
                throw new ArgumentException($"Augmentation crop ratio must satisfy 0 < CropRatioMin <= CropRatioMax; got [{CropRatioMin}, {CropRatioMax}].");
        }
        if (!(MixupAlpha >= 0) || double.IsInfinity(MixupAlpha)) throw new ArgumentException($"Augmentation.MixupAlpha must be finite and >= 0; got {MixupAlpha}.");
        if (!(CutmixAlpha >= 0) || double.IsInfinity(CutmixAlpha)) throw new ArgumentException($"Augmentation.CutmixAlpha must be finite and >= 0; got {CutmixAlpha}.");
        Probability(MixProbability, nameof(MixProbability));
        Probability(SwitchProbability, nameof(SwitchProbability));
        Probability(RandomErasing, nameof(RandomErasing));
        RandAugment?.Validate();
    }

    /// <summary>A one-line description of every setting (used in logs and checkpoint fingerprints).</summary>
    public override string ToString() => FormattableString.Invariant(
        $"{CropText()} flip={HorizontalFlip} mixup={MixupAlpha} cutmix={CutmixAlpha} mixProb={MixProbability} switch={SwitchProbability} erase={RandomErasing}")
        + (RandAugment is null or { IsOff: true } ? "" : $" randaug={RandAugment}");

    // The random resized crop keeps its long form, so fingerprints of runs that use it stay as they were.
    string CropText() => RandomResizedCrop
        ? FormattableString.Invariant($"crop=True[{CropScaleMin},{CropScaleMax}]x[{CropRatioMin:R},{CropRatioMax:R}]")
        : RandomCropPadding > 0 ? FormattableString.Invariant($"padcrop={RandomCropPadding}") : "crop=off";
}

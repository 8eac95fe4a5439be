using System.Globalization;
using MLNet.WeightSelection.Models;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// The recipe fitted to the data: what a user leaves unset is resolved from the number of training images, the
/// classes, the image size and the architecture, with rules a careful timm user would apply by hand. Settings the
/// user gives always win. Each rule's constants are public so that docs, tests and the bench name the same numbers.
/// </summary>
public static class TrainingRecipe
{
    /// <summary>Optimizer steps the fitted length aims at (small data gets more epochs, large data fewer).</summary>
    public const int TargetSteps = 3000;

    /// <summary>Fewest epochs of a fitted length.</summary>
    public const int MinEpochs = 10;

    /// <summary>Most epochs of a fitted length.</summary>
    public const int MaxEpochs = 150;

    /// <summary>
    /// The teacher's adaptation length as a share of the student's epochs (rounded up, at least 1). On 1,000
    /// Fashion-MNIST images the ImageNet ResNet-18's validation accuracy stopped rising after about a sixth of the
    /// student's 104 epochs (docs/results.md).
    /// </summary>
    public const double AdaptationShare = 1.0 / 6.0;

    /// <summary>Share of the optimizer steps spent in linear warmup.</summary>
    public const double WarmupFraction = 0.05;

    /// <summary>Peak learning rate at batch 64; other batch sizes scale it by the square root of the ratio (timm's rule for Adam-family optimizers).</summary>
    public const double BaseLearningRate = 1e-3;

    /// <summary>The batch size <see cref="BaseLearningRate"/> belongs to.</summary>
    public const int BaseBatchSize = 64;

    /// <summary>Images at or below this side count as small: they get a translation crop instead of a random resized crop, and are upsampled.</summary>
    public const int SmallImageSide = 64;

    /// <summary>Images per class below which mixup, cutmix and random erasing are off (they cost small data more than they regularize).</summary>
    public const int MixingMinImagesPerClass = 300;

    /// <summary>Images per class from which mixup and cutmix take the paper's full strength.</summary>
    public const int FullMixingImagesPerClass = 3000;

    /// <summary>
    /// Images per class below which the fitted augmentation adds the paper's RandAugment (<c>rand-m9-mstd0.5-inc1</c>)
    /// for students of a family that takes it (<see cref="ModelFamily.SmallDataRandAugment"/>: ResNet). Measured on
    /// 1,000 Fashion-MNIST images (90 per class) with a ResNet student, 3 seeds each (docs/results.md): +1.07 points
    /// without teacher adaptation and +0.98 with it (every seed higher in both); not measured from 300 images per
    /// class, where mixing takes over.
    /// </summary>
    public const int RandAugmentMaxImagesPerClass = MixingMinImagesPerClass;

    /// <summary>
    /// Fewest student epochs with which the fitted recipe keeps its RandAugment. It regularizes long schedules and slows
    /// early training: the sample's 3 epochs on 2,700 Fashion-MNIST images scored 80.70% with it against 81.00%
    /// without for weight selection and 72.30% against 75.80% for random init (one run each, same code); its gains
    /// were measured at 104 epochs.
    /// </summary>
    public const int RandAugmentMinEpochs = MinEpochs;

    /// <summary>The RandAugment the fitted recipe adds below <see cref="RandAugmentMaxImagesPerClass"/> images per class: the paper's.</summary>
    public const string FittedRandAugment = "rand-m9-mstd0.5-inc1";

    /// <summary>Smallest fitted image side: below it an ImageNet network's last stage has nothing left to see.</summary>
    public const int MinImageSide = 32;

    /// <summary>
    /// The training image size: <paramref name="set"/> when given. Otherwise small images (side ≤ <see cref="SmallImageSide"/>)
    /// are upsampled twofold, so that a network made for 224 px keeps useful feature maps, and larger ones keep their
    /// side; the result is at least <see cref="MinImageSide"/>, rounded up to the architecture's
    /// <see cref="Models.ModelSpec.ImageSizeMultiple"/> and capped at the architecture's own size. Without a known side (images of many sizes that could not be measured), the
    /// architecture's size.
    /// </summary>
    /// <param name="set">The size the user set, or null.</param>
    /// <param name="sourceSide">The images' own side (the larger of median height and width), or null when unknown.</param>
    /// <param name="architectureSize">The architecture's image size (224 for ImageNet presets).</param>
    /// <param name="multiple">The architecture's preferred multiple.</param>
    public static int ImageSize(int? set, int? sourceSide, int architectureSize, int multiple)
    {
        if (set is { } s) return s;
        if (sourceSide is not { } side || side < 1) return architectureSize;
        int target = Math.Max(MinImageSide, side <= SmallImageSide ? 2 * side : side);
        target = (target + multiple - 1) / multiple * multiple;
        return Math.Max(multiple, Math.Min(target, architectureSize));
    }

    /// <summary>
    /// The size part of <see cref="Adapts"/>: true unless the teacher was made for the training image size. Measured (docs/results.md):
    /// ML.NET's ImageNet ResNet-18, made for 224 px, adapted at 56 px on Fashion-MNIST gave its student +0.56 and +0.76
    /// points; a ViT made for 32 px on the same kind of images, adapted at 32 px, gave −0.66 and −2.36.
    /// </summary>
    public static bool AdaptsAtSize(DataProfile data) => data.TeacherImageSize is not { } teacher || teacher != data.ImageSize;

    /// <summary>
    /// Images per class from which the default no longer adapts the teacher. Measured with ML.NET's ImageNet ResNet-18
    /// over 3 seeds each (docs/results.md): at about 100 training images per class adaptation gave +0.72 points on
    /// Fashion-MNIST (every seed) and −0.25 on digits (within the seeds' spread); at 450 per class on Fashion-MNIST
    /// −0.02, for 2.5 times the fit time. The threshold lies between the two measured points; it is the one where
    /// mixing starts (<see cref="MixingMinImagesPerClass"/>), the recipe's line between small and larger data.
    /// </summary>
    public const int AdaptationMaxImagesPerClass = MixingMinImagesPerClass;

    /// <summary>
    /// Whether the default adapts the teacher: when the student is selected from a teacher that was made for another
    /// image size (<see cref="AdaptsAtSize"/>) and there are fewer than <see cref="AdaptationMaxImagesPerClass"/>
    /// training images per class.
    /// </summary>
    public static bool Adapts(DataProfile data) =>
        data.SelectsFromTeacher && AdaptsAtSize(data) && ImagesPerClass(data) < AdaptationMaxImagesPerClass;

    static double ImagesPerClass(DataProfile data) => ImagesPerClass(data.TrainingImages, data.Classes);

    static double ImagesPerClass(int trainingImages, int classes) => (double)trainingImages / Math.Max(1, classes);

    /// <summary>The teacher adaptation's fitted epochs: <see cref="AdaptationShare"/> of the student's, rounded up, at least 1.</summary>
    public static int AdaptationEpochs(int studentEpochs) => Math.Max(1, (int)Math.Ceiling(studentEpochs * AdaptationShare - 1e-9));

    /// <summary>The batch size fitted to the number of training images: 32 below 4,000, 64 below 20,000, else 128.</summary>
    public static int BatchSize(int trainingImages) => trainingImages < 4000 ? 32 : trainingImages < 20000 ? 64 : 128;

    /// <summary><see cref="BaseLearningRate"/> · √(batch / <see cref="BaseBatchSize"/>).</summary>
    public static double LearningRate(int batchSize) => BaseLearningRate * Math.Sqrt((double)batchSize / BaseBatchSize);

    /// <summary>Epochs that give about <see cref="TargetSteps"/> optimizer steps, within [<see cref="MinEpochs"/>, <see cref="MaxEpochs"/>].</summary>
    public static int Epochs(int trainingImages, int batchSize)
    {
        int steps = Math.Max(1, TrainingRun.StepsPerEpoch(trainingImages, batchSize));
        return Math.Clamp((TargetSteps + steps - 1) / steps, MinEpochs, MaxEpochs);
    }

    /// <summary>
    /// Augmentation fitted to the image size and the images per class: a reflect-pad translation crop of side/8 for
    /// small images, else a random resized crop of 35–100% of the area; horizontal flips; mixup, cutmix and erasing off
    /// below <see cref="MixingMinImagesPerClass"/> images per class and growing to the paper's strength at
    /// <see cref="FullMixingImagesPerClass"/>; RandAugment (<see cref="FittedRandAugment"/>) below
    /// <see cref="RandAugmentMaxImagesPerClass"/> images per class when the <paramref name="student"/>'s family takes it.
    /// </summary>
    /// <param name="imageSize">Side of the training images.</param>
    /// <param name="trainingImages">Images the student trains on.</param>
    /// <param name="classes">Classes of the label.</param>
    /// <param name="student">The student's family (<see cref="ModelFamily.SmallDataRandAugment"/>), or null when not known (no RandAugment).</param>
    public static AugmentationOptions Augmentation(int imageSize, int trainingImages, int classes, ModelFamily? student)
    {
        var a = new AugmentationOptions();
        if (imageSize <= SmallImageSide)
        {
            a.RandomResizedCrop = false;
            a.RandomCropPadding = Math.Max(1, imageSize / 8);
        }
        double perClass = ImagesPerClass(trainingImages, classes);
        if (perClass < RandAugmentMaxImagesPerClass && student is { SmallDataRandAugment: true }) a.RandAugment = RandAugmentOptions.Parse(FittedRandAugment);
        if (perClass < MixingMinImagesPerClass)
        {
            a.MixupAlpha = 0;
            a.CutmixAlpha = 0;
            a.MixProbability = 0;
            a.RandomErasing = 0;
        }
        else
        {
            // Strength grows with log(images per class) from a fifth of the paper's at the threshold to all of it.
            double t = Math.Clamp(Math.Log(perClass / MixingMinImagesPerClass) / Math.Log((double)FullMixingImagesPerClass / MixingMinImagesPerClass), 0, 1);
            double share = 0.2 + 0.8 * t;
            a.MixupAlpha = Math.Round(0.8 * share, 2);
            a.CutmixAlpha = Math.Round(1.0 * share, 2);
            a.MixProbability = Math.Round(0.5 + 0.5 * t, 2);
            a.RandomErasing = 0.25;
        }
        return a;
    }

    /// <summary>
    /// Resolves every unset part of <paramref name="settings"/> for <paramref name="data"/>. Settings given win;
    /// <see cref="FittedRecipe.Choices"/> says which values were set and which were fitted, and why.
    /// </summary>
    /// <param name="settings">What the user set.</param>
    /// <param name="data">The data and models the recipe is for.</param>
    /// <param name="seed">The run's seed.</param>
    /// <param name="configure">Called on the student's options before they are returned, for settings outside the recipe
    /// (threads, checkpoints, early stopping).</param>
    /// <exception cref="ArgumentException">A setting cannot apply to this data (EMA without validation, an adaptation without a teacher).</exception>
    public static FittedRecipe Fit(RecipeSettings settings, DataProfile data, int seed, Action<TrainingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(data);
        if (data.TrainingImages < 1) throw new ArgumentException("The recipe needs at least one training image.", nameof(data));
        var choices = new List<RecipeChoice>();
        int perClass = (int)ImagesPerClass(data);
        string F(double v) => v.ToString("G3", CultureInfo.InvariantCulture);
        T Pick<T>(string name, T? set, Func<T> fitted, Func<T, string> show, string reason) where T : struct
        {
            var value = set ?? fitted();
            choices.Add(new RecipeChoice(name, show(value), set.HasValue, set.HasValue ? "" : reason));
            return value;
        }

        choices.Add(new RecipeChoice(nameof(RecipeSettings.ImageSize), data.ImageSize.ToString(CultureInfo.InvariantCulture), settings.ImageSize.HasValue,
            settings.ImageSize.HasValue ? "" : $"small images ({SmallImageSide} px or less) upsampled twofold, others kept; at most the architecture's size"));
        int batch = Pick(nameof(RecipeSettings.BatchSize), settings.BatchSize, () => BatchSize(data.TrainingImages), b => b.ToString(CultureInfo.InvariantCulture),
            "32 below 4,000 images, 64 below 20,000, else 128");
        int steps = TrainingRun.StepsPerEpoch(data.TrainingImages, batch);
        int epochs = Pick(nameof(RecipeSettings.Epochs), settings.Epochs, () => Epochs(data.TrainingImages, batch), e => e.ToString(CultureInfo.InvariantCulture),
            $"about {TargetSteps} steps of {batch} ({steps} per epoch), {MinEpochs}–{MaxEpochs} epochs");
        double lr = Pick(nameof(RecipeSettings.LearningRate), settings.LearningRate, () => LearningRate(batch), F,
            $"{F(BaseLearningRate)} at batch {BaseBatchSize}, scaled by √(batch/{BaseBatchSize})");
        double warmup = Pick(nameof(RecipeSettings.WarmupEpochs), settings.WarmupEpochs, () => Math.Round(WarmupFraction * epochs, 2), F,
            $"{WarmupFraction:P0} of the steps");

        var augmentation = settings.Augmentation ?? Augmentation(data.ImageSize, data.TrainingImages, data.Classes, data.StudentFamily);
        bool shortRun = settings.Augmentation is null && augmentation.RandAugment is not null && epochs < RandAugmentMinEpochs;
        if (shortRun)
        {
            augmentation = augmentation.Copy();
            augmentation.RandAugment = null;
        }
        // RandAugment has its own choice below, so the augmentation's row shows the rest.
        var shown = augmentation.Copy();
        shown.RandAugment = null;
        choices.Add(new RecipeChoice(nameof(RecipeSettings.Augmentation), $"[{shown}]", settings.Augmentation is not null,
            settings.Augmentation is not null ? "" : $"{(data.ImageSize <= SmallImageSide ? "translation crop for small images" : "random resized crop")}, mixing by {perClass} images per class"));
        if (settings.RandAugment is { } randAugment)
        {
            if (settings.Augmentation?.RandAugment is not null)
                throw new ArgumentException("RandAugment is set twice, as RandAugment and in Augmentation.RandAugment: set it in one place.");
            // A copy, so that neither the caller's Augmentation object nor a fitted one is changed.
            augmentation = augmentation.Copy();
            augmentation.RandAugment = randAugment.IsOff ? null : randAugment;
        }
        bool randAugmentSet = settings.RandAugment is not null || settings.Augmentation is not null;
        choices.Add(new RecipeChoice(nameof(RecipeSettings.RandAugment), augmentation.RandAugment?.ToString() ?? "off", randAugmentSet,
            randAugmentSet ? "" : shortRun ? $"off for fewer than {RandAugmentMinEpochs} epochs, where it slows training more than it regularizes"
                : perClass >= RandAugmentMaxImagesPerClass
                ? $"off from {RandAugmentMaxImagesPerClass} images per class, where mixing regularizes (not measured there)"
                : data.StudentFamily is { SmallDataRandAugment: true } family
                ? $"the paper's below {RandAugmentMaxImagesPerClass} images per class for {family.Name} students"
                : $"off for {data.StudentFamily?.Name ?? "these"} students: on small data it is on only for families it was measured to help"));

        EmaOptions? ema;
        if (settings.Ema is { IsOff: true }) ema = null;
        else if (settings.Ema is { } set)
        {
            if (data.ValidationImages == 0)
                throw new ArgumentException("Ema needs validation data to choose between the EMA and the live weights: give validation data, or set Ema to EmaOptions.Off.");
            ema = set;
        }
        else ema = data.ValidationImages > 0 ? new EmaOptions() : null;
        choices.Add(new RecipeChoice(nameof(RecipeSettings.Ema), ema is null ? "off" : $"[{ema}]", settings.Ema is not null,
            settings.Ema is not null ? "" : data.ValidationImages > 0 ? "on with validation data" : "off without validation data"));

        TeacherAdaptationOptions? adaptation;
        if (settings.TeacherAdaptation is { IsOff: true }) adaptation = null;
        else if (settings.TeacherAdaptation is { } setAdaptation)
        {
            if (!data.SelectsFromTeacher)
                throw new ArgumentException("TeacherAdaptation adapts the teacher the student is selected from, but the student is not selected from a teacher (random init). Set TeacherAdaptation to TeacherAdaptationOptions.Off or null.");
            adaptation = setAdaptation;
        }
        else adaptation = Adapts(data) ? new TeacherAdaptationOptions() : null;

        TrainingOptions? teacherRun = null;
        if (adaptation is not null)
        {
            adaptation.Validate();
            int teacherEpochs = adaptation.Epochs ?? AdaptationEpochs(epochs);
            double teacherLr = adaptation.LearningRate ?? lr / 2;
            teacherRun = new TrainingOptions
            {
                Epochs = teacherEpochs,
                BatchSize = batch,
                LearningRate = teacherLr,
                WarmupEpochs = Math.Round(WarmupFraction * teacherEpochs, 2),
                WeightDecay = settings.WeightDecay,
                LabelSmoothing = settings.LabelSmoothing,
                Augmentation = augmentation,
                Seed = seed,
            };
            choices.Add(new RecipeChoice(nameof(RecipeSettings.TeacherAdaptation), $"{teacherEpochs} {(teacherEpochs == 1 ? "epoch" : "epochs")} at lr {F(teacherLr)}",
                settings.TeacherAdaptation is not null, settings.TeacherAdaptation is not null ? "" :
                (data.TeacherImageSize is { } t ? $"the teacher was made for {t} px and the student trains at {data.ImageSize} px" : "the student is selected from a teacher")
                + $", {perClass} images per class (below {AdaptationMaxImagesPerClass}); a sixth of the student's epochs at half its learning rate"));
        }
        else
            choices.Add(new RecipeChoice(nameof(RecipeSettings.TeacherAdaptation), "off", settings.TeacherAdaptation is not null,
                settings.TeacherAdaptation is not null ? "" : !data.SelectsFromTeacher ? "no teacher to select from"
                : !AdaptsAtSize(data) ? $"the teacher was made for the training size, {data.ImageSize} px"
                : $"{perClass} images per class: adapting paid only below {AdaptationMaxImagesPerClass}"));

        DistillationOptions? distillation;
        if (settings.Distillation is { IsOff: true }) distillation = null;
        else if (settings.Distillation is { } setDistillation) distillation = setDistillation;
        else distillation = teacherRun is not null ? DistillationOptions.Logits() : null;
        choices.Add(new RecipeChoice(nameof(RecipeSettings.Distillation), distillation?.ToString() ?? "off", settings.Distillation is not null,
            settings.Distillation is not null ? "" : teacherRun is not null ? "logits of the adapted teacher" : "no adapted teacher"));

        var student = new TrainingOptions
        {
            Epochs = epochs,
            BatchSize = batch,
            LearningRate = lr,
            WarmupEpochs = warmup,
            WeightDecay = settings.WeightDecay,
            LabelSmoothing = settings.LabelSmoothing,
            Augmentation = augmentation,
            Seed = seed,
            Ema = ema,
            Distillation = distillation,
        };
        configure?.Invoke(student);
        student.Validate();
        teacherRun?.Validate();
        return new FittedRecipe(data, student, teacherRun, choices);
    }
}

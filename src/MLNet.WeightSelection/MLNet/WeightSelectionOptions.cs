using Microsoft.ML;
using MLNet.WeightSelection.Selection;
using MLNet.WeightSelection.Training;

namespace MLNet.WeightSelection;

/// <summary>
/// Options of <c>mlContext.Transforms.InitializeFromTeacher</c>: which teacher and student, how weights are selected,
/// and the training recipe. Every default is stated on its member. The recipe's members default to null, which means
/// "fitted to the data" (<see cref="TrainingRecipe"/>): the image size, length, batch size, learning rate, warmup,
/// augmentation, EMA, teacher adaptation and distillation are resolved from the number of images, the classes, the
/// images' size and the architecture, logged in one line and kept in <see cref="WeightSelectionTransformer.Recipe"/>.
/// A value you set always wins.
/// </summary>
public sealed class WeightSelectionOptions
{
    /// <summary>Name of the label column: a key type (add <c>MapValueToKey</c> first). Default: "Label".</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>
    /// Name of the image column: an <c>MLImage</c> (<c>LoadImages</c>), encoded bytes (<c>LoadRawImageBytes</c>) or planar
    /// 0–255 pixels of 1 or 3 planes (<c>ExtractPixels</c> with its defaults). Default: "Image".
    /// </summary>
    public string ImageColumnName { get; set; } = "Image";

    /// <summary>Name of the added score column: one probability per class, in the label's key order. Default: "Score".</summary>
    public string ScoreColumnName { get; set; } = "Score";

    /// <summary>Name of the added predicted-label column, of the label's key type. Default: "PredictedLabel".</summary>
    public string PredictedLabelColumnName { get; set; } = "PredictedLabel";

    /// <summary>
    /// The larger pretrained model (<see cref="Teacher.FromFile(string, string)"/>, <see cref="Teacher.FromOnnx"/>,
    /// <see cref="Teacher.FromModel"/>). Required for <see cref="Initialization.WeightSelection"/> and for
    /// <see cref="Distillation"/>. Default: null.
    /// </summary>
    public Teacher? Teacher { get; set; }

    /// <summary>
    /// The student's architecture: a preset name, inline JSON, a .json path or a <c>ModelSpec</c>, of the teacher's
    /// family. Its classifier is sized to the label's classes. Required; default: null.
    /// </summary>
    public Architecture? Student { get; set; }

    /// <summary>
    /// Side of the square images the student sees; every image is resized to it (scaled to cover, centre-cropped).
    /// A ViT's position embeddings are sized to it. Default: null, fitted: images of 64 px or less are upsampled twofold
    /// (28 px Fashion-MNIST trains at 56 px), larger ones keep their side, rounded up to the architecture's multiple and
    /// at most the architecture's own size (224 for presets) (<see cref="TrainingRecipe.ImageSize"/>).
    /// </summary>
    public int? ImageSize { get; set; }

    /// <summary>
    /// Seed of the student's initialization, the validation split, shuffling, augmentation and drop path. Default: null,
    /// the MLContext's seed, or 0 when it has none.
    /// </summary>
    public int? Seed { get; set; }

    /// <summary>
    /// Where to train: "cpu", "cuda" or "cuda:N". Default: null, which follows the MLContext: <c>GpuDeviceId</c> set
    /// means that CUDA device, falling back to the CPU when CUDA is unavailable only if <c>FallbackToCpu</c> is true;
    /// otherwise the CPU. Scoring follows the same MLContext settings through ONNX Runtime.
    /// </summary>
    public string? Device { get; set; }

    /// <summary>Which teacher layer each student layer takes. Default: <see cref="LayerSelection.FirstN"/> (the paper's).</summary>
    public LayerSelection LayerSelection { get; set; } = LayerSelection.FirstN;

    /// <summary>Which elements of each teacher tensor the student keeps. Default: <see cref="ElementSelection.Uniform"/> (the paper's).</summary>
    public ElementSelection ElementSelection { get; set; } = ElementSelection.Uniform;

    /// <summary>Select attention widths as whole heads. Default: false (uniform over the inner width, as the paper).</summary>
    public bool WholeHeads { get; set; }

    /// <summary>
    /// How the student starts: <see cref="Initialization.WeightSelection"/>, or <see cref="Initialization.Random"/> for
    /// the paper's baseline with the same recipe. Default: WeightSelection.
    /// </summary>
    public Initialization Initialization { get; set; } = Initialization.WeightSelection;

    /// <summary>
    /// Passes over the training data. Default: null, fitted: about <see cref="TrainingRecipe.TargetSteps"/> optimizer
    /// steps, within <see cref="TrainingRecipe.MinEpochs"/>–<see cref="TrainingRecipe.MaxEpochs"/> epochs.
    /// </summary>
    public int? Epochs { get; set; }

    /// <summary>Images per optimizer step. Default: null, fitted: 32 below 4,000 training images, 64 below 20,000, else 128.</summary>
    public int? BatchSize { get; set; }

    /// <summary>
    /// Peak learning rate of AdamW (after warmup; cosine decay to 1e-6). Default: null, fitted: 1e-3 at batch 64,
    /// scaled by √(batch/64).
    /// </summary>
    public double? LearningRate { get; set; }

    /// <summary>AdamW's decoupled weight decay; none on norms, biases, position embeddings and class tokens. Default: 0.05.</summary>
    public double WeightDecay { get; set; } = 0.05;

    /// <summary>Epochs of linear learning-rate warmup. Default: null, fitted: 5% of the optimizer steps.</summary>
    public double? WarmupEpochs { get; set; }

    /// <summary>Stochastic depth rate of the student's last block. Default: null, the student architecture's own (0 for presets).</summary>
    public double? DropPathRate { get; set; }

    /// <summary>Label smoothing of the cross-entropy. Default: 0.1.</summary>
    public double LabelSmoothing { get; set; } = 0.1;

    /// <summary>
    /// Augmentation on the cached image tensors: a crop (translation for small images, random resized otherwise), flip,
    /// RandAugment (<see cref="AugmentationOptions.RandAugment"/>), mixup, cutmix, random erasing.
    /// Default: null, fitted to the image size and the images per class (<see cref="TrainingRecipe.Augmentation"/>);
    /// <see cref="AugmentationOptions.Default"/> is the paper's recipe, <see cref="AugmentationOptions.None"/> turns it off.
    /// </summary>
    public AugmentationOptions? Augmentation { get; set; }

    /// <summary>
    /// RandAugment (timm's <c>--aa</c>, <see cref="RandAugmentOptions.Parse"/>) added to <see cref="Augmentation"/>,
    /// whether that is fitted or set, so it can be asked for without fixing the rest of the augmentation. Setting it
    /// here and in <see cref="AugmentationOptions.RandAugment"/> too is an error. Default: null (fitted: the paper's
    /// <c>rand-m9-mstd0.5-inc1</c> below <see cref="TrainingRecipe.RandAugmentMaxImagesPerClass"/> images per class when
    /// the student's family takes it (<see cref="Models.ModelFamily.SmallDataRandAugment"/>: ResNet) and trains at least
    /// <see cref="TrainingRecipe.RandAugmentMinEpochs"/> epochs, else off);
    /// <see cref="RandAugmentOptions.Off"/> turns it off.
    /// </summary>
    public RandAugmentOptions? RandAugment { get; set; }

    /// <summary>
    /// Knowledge distillation from the teacher (<see cref="DistillationOptions.Logits"/> or <see cref="DistillationOptions.Features"/>).
    /// Default: null, fitted: logit distillation from the adapted teacher when <see cref="TeacherAdaptation"/> is on,
    /// else none. <see cref="DistillationOptions.Off"/> turns it off.
    /// </summary>
    public DistillationOptions? Distillation { get; set; }

    /// <summary>
    /// Fine-tunes a copy of the teacher on the training data first (at the student's image size, classifier reset to
    /// the label's classes), then selects the student from it and distills from it. Default: null, fitted: on when the
    /// student is selected from a teacher made for another image size than the training size and there are fewer than
    /// <see cref="TrainingRecipe.AdaptationMaxImagesPerClass"/> training images per class (<see cref="TrainingRecipe.Adapts"/>).
    /// <see cref="TeacherAdaptationOptions.Off"/> turns it off. It costs a
    /// teacher training run of a sixth of the student's epochs, and the teacher's forward pass in every student step
    /// while distilling.
    /// </summary>
    public TeacherAdaptationOptions? TeacherAdaptation { get; set; }

    /// <summary>Stop when validation accuracy stops improving, restoring the best epoch. Default: null (train every epoch).</summary>
    public EarlyStoppingOptions? EarlyStopping { get; set; }

    /// <summary>
    /// An exponential moving average of the student's weights (timm's model EMA with warmup; see
    /// <see cref="EmaOptions"/>), scored on validation after every epoch beside the live weights; the fitted model keeps
    /// whichever scored better (<see cref="TrainingResult.KeptEma"/>). Needs validation data. Default: null, fitted: on
    /// with timm's settings when there is validation data. <see cref="EmaOptions.Off"/> turns it off.
    /// </summary>
    public EmaOptions? Ema { get; set; }

    /// <summary>
    /// Validation data with the training data's columns, scored after every epoch. Default: null, which holds out
    /// <see cref="ValidationFraction"/> of the training data instead.
    /// </summary>
    public IDataView? ValidationSet { get; set; }

    /// <summary>
    /// Share of the training data held out for validation (stratified by class, drawn from <see cref="Seed"/>) when no
    /// <see cref="ValidationSet"/> is given; 0 trains on everything without validation. Default: 0.1.
    /// </summary>
    public double ValidationFraction { get; set; } = 0.1;

    /// <summary>Called after every epoch with its metrics (loss, validation accuracy and top-5, learning rate, images/s, time). Default: null.</summary>
    public Action<EpochMetrics>? MetricsCallback { get; set; }

    /// <summary>
    /// Called once <c>Fit</c> has read the data and fitted the recipe to it, before the teacher is adapted and the
    /// student trained: the place to learn the fitted totals (<see cref="FittedRecipe.Student"/>'s epochs, the teacher
    /// adaptation's) for a progress display. The same recipe is kept in <see cref="WeightSelectionTransformer.Recipe"/>.
    /// Default: null.
    /// </summary>
    public Action<FittedRecipe>? RecipeCallback { get; set; }

    /// <summary>
    /// Called after every epoch of the teacher's adaptation (<see cref="TeacherAdaptation"/>) with its metrics, as
    /// <see cref="MetricsCallback"/> is for the student's epochs. Default: null.
    /// </summary>
    public Action<EpochMetrics>? TeacherAdaptationMetricsCallback { get; set; }

    /// <summary>
    /// Folder for a checkpoint of the last completed epoch; <c>Fit</c> with the same folder and options resumes from it.
    /// Default: null (nothing kept on disk).
    /// </summary>
    public string? CheckpointDirectory { get; set; }

    /// <summary>
    /// Folder that keeps the decoded, resized images between <c>Fit</c> calls, so a second <c>Fit</c> on the same data at
    /// the same image size (another recipe, seed or student) decodes nothing. An entry is keyed by the reading settings
    /// and a fingerprint of the data taken without decoding it: encoded image bytes are hashed whole; images from
    /// <c>LoadImages</c> are known by their file paths with each file's length and last write time (so the paths must be
    /// absolute, or relative to the working folder). Data that cannot be fingerprinted this way, and pixel vectors, are
    /// read as usual, with a log line saying why. Entries are written atomically and memory-mapped; nothing removes
    /// them but you. Default: null (images are decoded on every <c>Fit</c> and nothing is kept on disk).
    /// </summary>
    public string? PixelCacheDirectory { get; set; }

    /// <summary>Cap on TorchSharp's threads, and on the threads that read the images. Default: null (every core).</summary>
    public int? Threads { get; set; }

    /// <summary>Skip and count rows whose image cannot be read, instead of failing on the first one. Default: false.</summary>
    public bool SkipUnreadableImages { get; set; }

    /// <summary>Stops <c>Fit</c> at the next batch with <see cref="OperationCanceledException"/>. Default: none.</summary>
    public CancellationToken CancellationToken { get; set; }
}

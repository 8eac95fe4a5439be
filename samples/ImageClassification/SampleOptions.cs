namespace ImageClassification;

/// <summary>Knowledge distillation choice of the sample (<c>--distill</c>).</summary>
public enum DistillMode
{
    /// <summary>
    /// Fitted by the library's recipe (the default): logits of the adapted teacher for the weight-selection run, none for
    /// random init, which has no adapted teacher.
    /// </summary>
    Fitted,
    /// <summary>No distillation in either run (<see cref="MLNet.WeightSelection.Training.DistillationOptions.Off"/>).</summary>
    None,
    /// <summary>
    /// KL divergence to the teacher's logits in both runs: the adapted teacher's for weight selection; random init distills
    /// the teacher as given, whose classifier must then have the data's classes.
    /// </summary>
    Logits,
    /// <summary>L1 between the teacher's pooled features and a projection of the student's.</summary>
    Features,
}

/// <summary>Everything the sample's command line sets. The defaults are the README's "run the main job".</summary>
public sealed record SampleOptions
{
    /// <summary>Default student: half-width ResNet-18 (stem 32, channels 32/64/128/256).</summary>
    public const string DefaultStudent = "resnet18_half";

    /// <summary>
    /// Default passes over the training data (both runs). The library's fitted recipe would choose more for the bundled
    /// 3,000 images (its own choice is named in each run's recipe line); the sample caps it so that both runs, the teacher's
    /// adaptation included, finish within 5 minutes on 2 cores.
    /// </summary>
    public const int DefaultEpochs = 3;

    /// <summary>Share of the images held out as the test split when the data folder has no test/ folder.</summary>
    public const double TestFraction = 0.2;

    /// <summary>ImageFolder with train/ and test/ (or just class folders). Null: the bundled fashion-mnist-mini.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>Teacher checkpoint. Null: ML.NET's ImageNet ResNet-18 (ONNX) from Microsoft.ML.DnnImageFeaturizer.ResNet18.</summary>
    public string? TeacherCheckpoint { get; init; }

    /// <summary>Teacher architecture (preset, inline JSON or .json) for a timm checkpoint; not needed for .onnx.</summary>
    public string? TeacherArchitecture { get; init; }

    /// <summary>Student architecture (preset, inline JSON or .json), of the teacher's family.</summary>
    public string Student { get; init; } = DefaultStudent;

    /// <summary>Passes over the training data, the same for both runs (<see cref="DefaultEpochs"/> unless set).</summary>
    public int Epochs { get; init; } = DefaultEpochs;

    /// <summary>
    /// Side of the square images both students see. Null (the default): fitted by the library's recipe to the images' own
    /// side and the architecture (the bundled 28 px images are upsampled to 56 px).
    /// </summary>
    public int? ImageSize { get; init; }

    /// <summary>Knowledge distillation from the teacher (<see cref="DistillMode.Fitted"/> unless set).</summary>
    public DistillMode Distill { get; init; } = DistillMode.Fitted;

    /// <summary>
    /// True: the weight-selection student is selected from the teacher as given. False (the default): the recipe adapts
    /// the teacher to the data first (fine-tuned at the student's image size with its classifier reset to the data's
    /// classes), and the student is selected from, and distills from, the adapted teacher.
    /// </summary>
    public bool NoAdaptTeacher { get; init; }

    /// <summary>Folder for model.zip, student.onnx, the accuracy plot and the history.</summary>
    public string OutputDirectory { get; init; } = "out";

    /// <summary>Seed of the MLContext and both runs (initialization, splits, shuffles, augmentation).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>The bundled data set: data/fashion-mnist-mini beside the project, found from the app's folder upwards.</summary>
    public static string? FindBundledData()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                foreach (var relative in new[] { "data/fashion-mnist-mini", "samples/ImageClassification/data/fashion-mnist-mini" })
                {
                    string candidate = Path.Combine(dir.FullName, relative);
                    if (Directory.Exists(candidate)) return candidate;
                }
        return null;
    }

    /// <summary>ML.NET's ResNet-18 as the NuGet package copies it to the app's output.</summary>
    public static string BundledTeacher => Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
}

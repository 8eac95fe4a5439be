namespace ImageClassification;

/// <summary>Knowledge distillation choice of the sample (<c>--distill</c>).</summary>
public enum DistillMode
{
    /// <summary>No distillation (the default).</summary>
    None,
    /// <summary>KL divergence to the teacher's logits; needs a teacher whose classifier has the data's classes.</summary>
    Logits,
    /// <summary>L1 between the teacher's pooled features and a projection of the student's.</summary>
    Features,
}

/// <summary>Everything the sample's command line sets. The defaults are the README's "run the main job".</summary>
public sealed record SampleOptions
{
    /// <summary>Default student: half-width ResNet-18 (stem 32, channels 32/64/128/256).</summary>
    public const string DefaultStudent = "resnet18_half";

    /// <summary>Default passes over the training data, chosen so both runs finish within 5 minutes on 2 cores.</summary>
    public const int DefaultEpochs = 10;

    /// <summary>
    /// Default image side: the 28 px Fashion-MNIST images are resized to it. 64 px costs about twice the time of 32 px
    /// per image but lets the ImageNet teacher's filters transfer much better (measured: docs/results.md).
    /// </summary>
    public const int DefaultImageSize = 64;

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

    /// <summary>Passes over the training data, the same for both runs.</summary>
    public int Epochs { get; init; } = DefaultEpochs;

    /// <summary>Side of the square images both students see.</summary>
    public int ImageSize { get; init; } = DefaultImageSize;

    /// <summary>Knowledge distillation from the teacher in both runs.</summary>
    public DistillMode Distill { get; init; } = DistillMode.None;

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

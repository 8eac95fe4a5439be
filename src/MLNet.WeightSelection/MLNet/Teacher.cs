using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Models;

namespace MLNet.WeightSelection;

/// <summary>
/// The larger pretrained model a student is initialized from (and, with distillation, learns from): a checkpoint
/// with its architecture, ML.NET's ONNX ResNet-18, or a model already in memory. Nothing is read until <c>Fit</c>.
/// </summary>
public sealed class Teacher
{
    readonly Func<TeacherHandle> _open;

    Teacher(string description, Func<TeacherHandle> open)
    {
        Description = description;
        _open = open;
    }

    /// <summary>What the teacher is, for logs and errors.</summary>
    public string Description { get; }

    /// <summary>
    /// A checkpoint (safetensors, memory-mapped; PyTorch <c>.pt/.pth/.bin</c>; TorchSharp <c>.dat</c>) and its
    /// architecture. timm's parameter names are read as they are; other layouts the family's checkpoint filter knows
    /// (a <c>module.</c> prefix, Meta's original ConvNeXt names, DeiT-3's <c>gamma_1</c>/<c>gamma_2</c>) are loaded
    /// through it first.
    /// </summary>
    /// <param name="checkpointPath">The checkpoint file.</param>
    /// <param name="architecture">A preset name (<c>vit_small_patch16_224</c>, <c>resnet50.a1_in1k</c>), inline JSON
    /// (<c>{"family": "resnet", ...}</c>) or the path of a .json spec.</param>
    public static Teacher FromFile(string checkpointPath, string architecture)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointPath);
        ArgumentException.ThrowIfNullOrEmpty(architecture);
        return new Teacher($"{architecture} from {checkpointPath}",
            () => FromSource(Checkpoint.Open(checkpointPath), ModelRegistry.ResolveSpec(architecture)));
    }

    /// <summary>
    /// A checkpoint whose architecture is told from its keys and shapes when <c>Fit</c> opens it: the family from the
    /// keys (timm's names, or a layout the family's checkpoint filter knows), then the registered preset whose model has
    /// exactly those shapes (the number of classes, and a ViT's image size, from the checkpoint). When no preset
    /// matches, or several that differ in what shapes cannot show (an input normalization, a head count), <c>Fit</c>
    /// throws before any training and asks for the architecture (the overloads below).
    /// </summary>
    /// <param name="checkpointPath">The checkpoint file (safetensors, PyTorch <c>.pt/.pth/.bin</c>, TorchSharp <c>.dat</c>).</param>
    public static Teacher FromFile(string checkpointPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointPath);
        return new Teacher($"{checkpointPath} (architecture told from its keys)", () =>
        {
            var source = Checkpoint.Open(checkpointPath);
            PresetMatch match;
            try
            {
                match = TeacherArchitecture.Detect(source);
            }
            catch
            {
                source.Dispose();
                throw;
            }
            var handle = FromSource(source, match.Spec);
            handle.Note = $"The teacher's architecture, told from the keys and shapes of {checkpointPath}: {match}.";
            return handle;
        });
    }

    /// <summary>A checkpoint and its architecture as a spec; other layouts go through the family's checkpoint filter as for the overload with a name.</summary>
    public static Teacher FromFile(string checkpointPath, ModelSpec architecture)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointPath);
        ArgumentNullException.ThrowIfNull(architecture);
        return new Teacher($"{architecture.Family} from {checkpointPath}", () => FromSource(Checkpoint.Open(checkpointPath), architecture));
    }

    /// <summary>
    /// A ResNet in ONNX form, such as ML.NET's ImageNet ResNet-18 (package Microsoft.ML.DnnImageFeaturizer.ResNet18):
    /// the importer names its weights as timm's resnet and reads its input convention.
    /// </summary>
    /// <param name="onnxPath">The .onnx file.</param>
    /// <param name="options">Import options (preprocessing model, input convention); null for the defaults.</param>
    public static Teacher FromOnnx(string onnxPath, OnnxImportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(onnxPath);
        return new Teacher($"ONNX ResNet {onnxPath}", () =>
        {
            var import = OnnxResNetImporter.Import(onnxPath, options);
            try
            {
                var spec = import.Spec with { Input = import.Input };
                return new TeacherHandle(import.Weights, spec, import.Input, import, () => BuildModel(spec, import.Weights));
            }
            catch
            {
                import.Dispose();
                throw;
            }
        });
    }

    /// <summary>A model in memory (for example one trained earlier in the same program). It is read, never changed.</summary>
    public static Teacher FromModel(ImageClassifier model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new Teacher($"{model.Spec.Family} model in memory", () =>
        {
            var weights = StateDict.FromModule(model, $"{model.Spec.Family} teacher in memory");
            return new TeacherHandle(weights, model.Spec, model.Input, weights, () => model, ownsModel: false);
        });
    }

    /// <inheritdoc />
    public override string ToString() => Description;

    internal TeacherHandle Open() => _open();

    static TeacherHandle FromSource(ITensorSource source, ModelSpec spec)
    {
        try
        {
            var (tensors, filtered) = TeacherCheckpoint.Prepare(source, spec);
            // A filtered checkpoint was copied into a state dict in timm's names; the file is not needed any more.
            if (filtered) source.Dispose();
            return new TeacherHandle(tensors, spec, spec.Input, tensors, () => BuildModel(spec, tensors));
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>Builds the teacher as a module with the number of classes its checkpoint's classifier has.</summary>
    static ImageClassifier BuildModel(ModelSpec spec, ITensorSource weights)
    {
        var probe = spec.CreateModel();
        int classes;
        try
        {
            string? classifier = probe.ClassifierKeys.FirstOrDefault(k => k.EndsWith(".weight", StringComparison.Ordinal));
            classes = classifier is not null && weights.Contains(classifier) ? (int)weights.GetInfo(classifier).Shape[0] : 0;
        }
        finally
        {
            probe.Dispose();
        }
        var model = spec.WithNumClasses(classes).CreateModel();
        try
        {
            model.Input = spec.Input;
            model.LoadStateDict(weights, strict: true);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}

/// <summary>An opened teacher: its weights for selection, its input convention, and its module on demand (distillation).</summary>
internal sealed class TeacherHandle : IDisposable
{
    readonly IDisposable _owner;
    readonly Func<ImageClassifier> _createModel;
    readonly bool _ownsModel;
    ImageClassifier? _model;

    public TeacherHandle(ITensorSource weights, ModelSpec spec, InputConvention input, IDisposable owner, Func<ImageClassifier> createModel, bool ownsModel = true)
    {
        Weights = weights;
        Spec = spec;
        Input = input;
        _owner = owner;
        _createModel = createModel;
        _ownsModel = ownsModel;
    }

    /// <summary>The teacher's tensors under timm's names.</summary>
    public ITensorSource Weights { get; }

    /// <summary>The teacher's architecture.</summary>
    public ModelSpec Spec { get; }

    /// <summary>How the teacher expects its input; the student inherits it.</summary>
    public InputConvention Input { get; }

    /// <summary>What was inferred while opening the teacher (its detected architecture), for the log; null when nothing was.</summary>
    public string? Note { get; set; }

    /// <summary>The teacher as a module (built and loaded on first use).</summary>
    public ImageClassifier Model => _model ??= _createModel();

    public void Dispose()
    {
        if (_ownsModel) _model?.Dispose();
        _owner.Dispose();
    }
}

using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.Json;
using MLNet.WeightSelection.Selection;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Models;

/// <summary>
/// A family defined outside the library (here, in the test assembly) registers through <see cref="ModelFamilies"/>
/// and is then known to specs, presets, schema detection and weight selection, without any change to the library.
/// </summary>
public class UserFamilyTests
{
    /// <summary>A residual MLP over flattened pixels: <c>embed</c>, <c>blocks.{i}.fc</c>, <c>head</c>.</summary>
    public sealed record ToyMlpSpec : ModelSpec
    {
        public const string FamilyName = "toymlp";

        public override string Family => FamilyName;

        public int Width { get; init; } = 8;

        public int Depth { get; init; } = 2;

        public override ImageClassifier CreateModel() => new ToyMlp(this);

        protected override void WriteKwargs(System.Text.Json.Utf8JsonWriter writer)
        {
            writer.WriteNumber("width", Width);
            writer.WriteNumber("depth", Depth);
            writer.WriteNumber("img_size", ImageSize);
        }

        protected override bool UsesImageSizeKwarg => true;
    }

    sealed class ToyMlp : ImageClassifier
    {
        readonly ToyMlpSpec _spec;
        readonly Linear embed;
        readonly ModuleList<Linear> blocks;
        readonly Linear head;

        public ToyMlp(ToyMlpSpec spec) : base(nameof(ToyMlp))
        {
            _spec = spec;
            embed = nn.Linear(spec.InChans * spec.ImageSize * spec.ImageSize, spec.Width);
            blocks = new ModuleList<Linear>(Enumerable.Range(0, spec.Depth).Select(_ => nn.Linear(spec.Width, spec.Width)).ToArray());
            head = nn.Linear(spec.Width, spec.NumClasses);
            RegisterComponents();
        }

        public override ModelSpec Spec => _spec;

        public override int NumFeatures => _spec.Width;

        public override int NumClasses => _spec.NumClasses;

        public override IReadOnlyList<string> ClassifierKeys => new[] { "head.weight", "head.bias" };

        public override Tensor ForwardFeatures(Tensor x)
        {
            var h = embed.forward(x.flatten(1));
            foreach (var fc in blocks) h = h + nn.functional.relu(fc.forward(h));
            return h;
        }

        public override Tensor ForwardHead(Tensor features, bool preLogits = false) => preLogits ? features.alias() : head.forward(features);

        public override void ResetClassifier(int numClasses) => throw new NotSupportedException();
    }

    sealed class ToyMlpFamily : ModelFamily
    {
        public static readonly ToyMlpFamily Instance = new();

        public override string Name => ToyMlpSpec.FamilyName;

        public override ModelSpec ReadSpec(KwargsReader kwargs) => new ToyMlpSpec
        {
            Width = kwargs.Int("width", 8),
            Depth = kwargs.Int("depth", 2),
            ImageSize = kwargs.Int("img_size", 224),
        };

        public override IReadOnlyDictionary<string, ModelSpec> Presets { get; } = new Dictionary<string, ModelSpec>
        {
            ["toymlp_small"] = new ToyMlpSpec { Width = 8, Depth = 2, ImageSize = 4, NumClasses = 3 },
        };

        public override SelectionSchema Schema { get; } = new()
        {
            Family = ToyMlpSpec.FamilyName,
            Signature = new[] { "embed.weight", "blocks.{i}.weight" },
            LayerGroups = new[] { "blocks.{i}" },
            ClassifierKeys = new[] { "head.weight", "head.bias" },
            Rules = new WidthRule[]
            {
                new("embed.weight", AxisBinding.To("width"), AxisBinding.None),
                new("embed.bias", AxisBinding.To("width")),
                new("blocks.{i}.weight", AxisBinding.To("width"), AxisBinding.To("width")),
                new("blocks.{i}.bias", AxisBinding.To("width")),
                new("head.weight", AxisBinding.None, AxisBinding.To("width")),
                new("head.bias", AxisBinding.None),
            },
        };
    }

    static UserFamilyTests() => ModelFamilies.Register(ToyMlpFamily.Instance);

    [Fact]
    public void A_registered_family_reads_its_specs_and_presets_and_is_listed()
    {
        var spec = Assert.IsType<ToyMlpSpec>(ModelSpec.FromJson("""{"family": "toymlp", "width": 6, "depth": 3, "img_size": 4, "num_classes": 5}"""));
        Assert.Equal((6, 3, 4, 5), (spec.Width, spec.Depth, spec.ImageSize, spec.NumClasses));
        Assert.Equal(spec, ModelSpec.FromJson(spec.ToJson())); // its own kwargs round-trip
        Assert.Equal(8, Assert.IsType<ToyMlpSpec>(ModelRegistry.ResolveSpec("toymlp_small")).Width);
        Assert.Contains("toymlp_small", ModelRegistry.Names);
        Assert.Contains("toymlp", ModelFamilies.Names);
        Assert.Same(ToyMlpFamily.Instance, ModelFamilies.Get("toymlp"));
        Assert.Superset(new HashSet<string> { "vit", "convnext", "resnet", "toymlp" }, ModelFamilies.Names.ToHashSet());
    }

    [Fact]
    public void Its_checkpoints_are_detected_and_selected_with_its_schema()
    {
        torch.manual_seed(3);
        using var teacher = new ToyMlpSpec { Width = 8, Depth = 3, ImageSize = 4, NumClasses = 10 }.CreateModel();
        using var student = new ToyMlpSpec { Width = 4, Depth = 2, ImageSize = 4, NumClasses = 3 }.CreateModel();
        using var weights = StateDict.FromModule(teacher);
        Assert.Equal("toymlp", FamilySchemas.Detect(weights.Keys)?.Family);

        var report = WeightSelector.SelectInto(weights, student);

        Assert.Equal("toymlp", report.Family);
        var width = Assert.Single(report.Widths, w => w.Name == "width");
        Assert.Equal((8L, 4L), (width.TeacherSize, width.StudentSize));
        var kept = width.Indices!;
        var teacherState = teacher.state_dict();
        var studentState = student.state_dict();
        // First-N layer selection and the same width indices on both axes of every block.
        using var expected = teacherState["blocks.1.weight"].index_select(0, tensor(kept)).index_select(1, tensor(kept));
        TensorAssert.Equal(expected, studentState["blocks.1.weight"], "blocks.1.weight");
        using var embed = teacherState["embed.weight"].index_select(0, tensor(kept));
        TensorAssert.Equal(embed, studentState["embed.weight"], "embed.weight");
    }

    [Fact]
    public void Onnx_export_of_a_family_without_a_graph_names_the_family()
    {
        using var model = new ToyMlpSpec { Width = 4, Depth = 1, ImageSize = 4, NumClasses = 3 }.CreateModel();
        var e = Assert.Throws<NotSupportedException>(() => global::MLNet.WeightSelection.Models.Onnx.OnnxExporter.ExportToBytes(model));
        Assert.Contains("'toymlp'", e.Message);
    }

    [Fact]
    public void A_second_family_of_the_same_name_or_with_a_foreign_schema_is_refused()
    {
        ModelFamilies.Register(ToyMlpFamily.Instance); // the same object again: nothing happens
        var e = Assert.Throws<ArgumentException>(() => ModelFamilies.Register(new ToyMlpFamily()));
        Assert.Contains("'toymlp' is already registered", e.Message);
        Assert.Throws<KeyNotFoundException>(() => ModelFamilies.Get("nosuchfamily"));
    }
}

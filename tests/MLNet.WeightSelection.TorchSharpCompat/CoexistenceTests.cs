using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.TorchSharp;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Tests;
using MLNet.WeightSelection.Training;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.TorchSharpCompat;

/// <summary>
/// Both libraries in one process: one libtorch, loaded from the fixed build output; Microsoft.ML.TorchSharp's modules
/// run on it, and a weight-selection fit still works after them. Also what breaks on TorchSharp 0.107 at run time
/// although it binds: the NAS-BERT and RoBERTa models dispose weights while initializing them. Nothing here downloads
/// anything: ML.NET's trainers fetch pretrained weights in <c>Fit</c>, so their models are built with random weights.
/// </summary>
public class CoexistenceTests(ITestOutputHelper output)
{
    static readonly Assembly MLNetTorchSharp = typeof(TorchSharpCatalog).Assembly;

    static nn.Module<Tensor, Tensor> CreateGeLUFast() =>
        new Microsoft.ML.TorchSharp.NasBert.Modules.GeLUFast();

    [Fact]
    public void A_Microsoft_ML_TorchSharp_module_computes_on_libtorch_loaded_once_from_the_fixed_build_output()
    {
        using var gelu = CreateGeLUFast();
        float[] x = { -3f, -1f, -0.5f, 0f, 0.5f, 1f, 3f };
        using var input = tensor(x);
        using var y = gelu.forward(input);
        // The tanh approximation of GELU (Hendrycks and Gimpel), which NAS-BERT's GeLUFast computes.
        var expected = x.Select(v => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)))).ToArray();
        var actual = y.data<float>().ToArray();
        for (int i = 0; i < x.Length; i++) Assert.Equal(expected[i], actual[i], 5);

        if (!OperatingSystem.IsLinux()) return; // the native checks read /proc/self/maps
        var bridge = NativeLibraries.MappedPaths("libLibTorchSharp.so");
        var torchCpu = NativeLibraries.MappedPaths("libtorch_cpu.so");
        var libstdcxx = NativeLibraries.MappedPaths("libstdc++.so.6");
        output.WriteLine($"libLibTorchSharp.so: {string.Join(", ", bridge)}\nlibtorch_cpu.so: {string.Join(", ", torchCpu)}\nlibstdc++.so.6: {string.Join(", ", libstdcxx)}");
        string loaded = Assert.Single(bridge);
        Assert.Single(torchCpu);
        Assert.StartsWith(Path.GetFullPath(AppContext.BaseDirectory), loaded);

        // On a system whose libstdc++ lacks GLIBCXX_3.4.32 (Debian 12 and the like) libtorch loaded only because the
        // build marked that need weak in the output copy: this library's fix serves Microsoft.ML.TorchSharp too.
        ushort? flags = NativeLibraries.VersionNeedFlags(loaded, "GLIBCXX_3.4.32");
        string systemLibstdcxx = Assert.Single(libstdcxx);
        Assert.True(NativeLibraries.DefinesVersionString(systemLibstdcxx, "GLIBCXX_3.4.29"), "the version search finds nothing at all");
        bool systemHasIt = NativeLibraries.DefinesVersionString(systemLibstdcxx, "GLIBCXX_3.4.32");
        output.WriteLine($"system libstdc++ defines GLIBCXX_3.4.32: {systemHasIt}; vna_flags of that need in the loaded copy: {flags}");
        Assert.NotNull(flags);
        if (!systemHasIt) Assert.Equal(2, flags!.Value & 2);
    }

    [Fact]
    public void The_object_detection_model_throws_MissingMethodException_when_it_first_runs()
    {
        // FPN (the detector's feature pyramid over three backbone levels) upsamples with functional.interpolate on
        // every forward. Built here with small widths and random weights; the trainer would download its weights.
        using var fpn = new Microsoft.ML.TorchSharp.AutoFormerV2.FPN(new List<int> { 8, 16, 32 }, outChannel: 8, numOuts: 5);
        using var scope = NewDisposeScope();
        var features = new List<Tensor> { randn(1, 8, 16, 16), randn(1, 16, 8, 8), randn(1, 32, 4, 4) };
        var e = Assert.Throws<MissingMethodException>(() => fpn.forward(features));
        output.WriteLine(e.Message);
        Assert.Contains("functional.interpolate", e.Message);
    }

    [Fact]
    public void TorchSharp_0_107_init_functions_return_their_argument_so_disposing_the_result_disposes_the_weight()
    {
        // Microsoft.ML.TorchSharp initializes weights with `using var x = torch.nn.init.xavier_uniform_(weight);`,
        // which is harmless only if the call returns a new wrapper. In 0.107 it returns the weight itself.
        using var linear = nn.Linear(4, 3);
        var weight = linear.weight!;
        using (var returned = nn.init.xavier_uniform_(weight))
            Assert.Same(weight, returned);
        Assert.True(weight.IsInvalid);
        using var input = ones(1, 4);
        var e = Assert.Throws<InvalidOperationException>(() => linear.forward(input));
        Assert.Contains("Tensor invalid", e.Message);
    }

    /// <summary>The models behind Microsoft.ML.TorchSharp's trainers, built as the trainers build them before loading weights.</summary>
    public static TheoryData<string> TrainerModels => new() { "TextClassification", "NamedEntityRecognition", "QuestionAnswer", "ObjectDetection" };

    static nn.Module CreateTrainerModel(string trainer)
    {
        const BindingFlags Any = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;
        object Create(string typeName, params object[] args) =>
            Activator.CreateInstance(MLNetTorchSharp.GetType(typeName, throwOnError: true)!, Any, null, args, null)!;
        return trainer switch
        {
            // NAS-BERT with the trainer's default architecture; a 100-token vocabulary instead of the downloaded one.
            "TextClassification" => (nn.Module)Create("Microsoft.ML.TorchSharp.NasBert.Models.ModelForPrediction",
                new Microsoft.ML.TorchSharp.NasBert.TextClassificationTrainer.TextClassificationOptions(), 1, 100, 3),
            "NamedEntityRecognition" => (nn.Module)Create("Microsoft.ML.TorchSharp.NasBert.Models.NerModel",
                new Microsoft.ML.TorchSharp.NasBert.NerTrainer.NerOptions(), 1, 100, 3),
            "QuestionAnswer" => (nn.Module)Create("RobertaModelForQA", new Microsoft.ML.TorchSharp.Roberta.QATrainer.Options()),
            // AutoFormerV2 as the object-detection trainer configures it.
            "ObjectDetection" => new Microsoft.ML.TorchSharp.AutoFormerV2.AutoFormerV2(3, new List<int> { 64, 128, 256, 448 },
                new List<int> { 2, 2, 6, 2 }, new List<int> { 2, 4, 8, 14 }, CPU),
            _ => throw new ArgumentOutOfRangeException(nameof(trainer), trainer, "not one of TrainerModels"),
        };
    }

    /// <summary>How many weights each trainer's model loses at construction on TorchSharp 0.107 (measured; pinned so a change shows).</summary>
    static readonly Dictionary<string, int> DisposedAtConstruction = new()
    {
        // NAS-BERT: every Linear and convolution initialized through ModelUtils, the classifier head included.
        ["TextClassification"] = 84,
        ["NamedEntityRecognition"] = 68,
        // RoBERTa: the question-answering head only, which the trainer never loads from the checkpoint.
        ["QuestionAnswer"] = 2,
        // AutoFormerV2 initializes through other calls; it fails on interpolate instead.
        ["ObjectDetection"] = 0,
    };

    [Theory]
    [MemberData(nameof(TrainerModels))]
    public void A_trainer_model_disposes_some_of_its_own_weights_while_it_initializes_them(string trainer)
    {
        torch.manual_seed(1);
        using var model = CreateTrainerModel(trainer);
        var disposed = DisposedParameters.In(model);
        output.WriteLine($"{trainer} ({model.GetType().Name}): {disposed.Count} disposed weight tensors: {string.Join(", ", disposed)}");
        Assert.Equal(DisposedAtConstruction[trainer], disposed.Count);
    }

    [Fact]
    public void The_text_classification_model_cannot_run_a_forward_pass()
    {
        torch.manual_seed(1);
        using var model = (nn.Module<Tensor, Tensor, Tensor>)CreateTrainerModel("TextClassification");
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var tokens = tensor(new long[] { 0, 5, 17, 42, 2, 1, 1, 1, 0, 9, 23, 2, 1, 1, 1, 1 }, new long[] { 2, 8 });
        var e = Assert.Throws<InvalidOperationException>(() => model.forward(tokens, null!));
        output.WriteLine(e.ToString());
        Assert.Contains("Tensor invalid", e.Message);
    }

    [Fact]
    public void The_text_classification_trainer_checks_its_input_schema()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new TextRow { Sentence = "a cat", Label = "pet" }, new TextRow { Sentence = "a car", Label = "thing" } });
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        var trainer = ml.MulticlassClassification.Trainers.TextClassification(sentence1ColumnName: nameof(TextRow.Sentence));

        var schema = trainer.GetOutputSchema(ShapeOf(keyed.Schema));
        Assert.True(schema.Single(c => c.Name == "PredictedLabel").IsKey);
        Assert.Single(schema, c => c.Name == "Score");
        var e = Assert.ThrowsAny<ArgumentOutOfRangeException>(() => trainer.GetOutputSchema(ShapeOf(data.Schema)));
        Assert.Contains("Label", e.Message);
    }

    /// <summary>The shape ML.NET's pipelines pass to <c>GetOutputSchema</c>; its factory is internal.</summary>
    static SchemaShape ShapeOf(DataViewSchema schema) =>
        (SchemaShape)typeof(SchemaShape).GetMethod("Create", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public, new[] { typeof(DataViewSchema) })!
            .Invoke(null, new object[] { schema })!;

    sealed class TextRow
    {
        public string Sentence { get; set; } = "";
        public string Label { get; set; } = "";
    }

    sealed class PixelRow
    {
        [VectorType(3, 16, 16)]
        public float[] Pixels { get; set; } = Array.Empty<float>();

        public string Label { get; set; } = "";
    }

    [Fact]
    public void Weight_selection_fits_and_scores_after_Microsoft_ML_TorchSharp_ran()
    {
        using (var gelu = CreateGeLUFast())
        using (var warm = gelu.forward(ones(4)))
            Assert.Equal(4, warm.numel());

        using var tmp = new TempFolder();
        var teacherSpec = new ResNetSpec { Layers = new[] { 1, 1, 1, 1 }, Channels = new[] { 16, 32, 64, 128 }, PlainStemWidth = 16, NumClasses = 10, ImageSize = 16 };
        var studentSpec = new ResNetSpec { Layers = new[] { 1, 1, 1, 1 }, Channels = new[] { 8, 16, 32, 64 }, PlainStemWidth = 8, NumClasses = 2, ImageSize = 16 };
        torch.manual_seed(7);
        string teacherPath = tmp.File("teacher.safetensors");
        using (var teacher = teacherSpec.CreateModel())
        using (var weights = StateDict.FromModule(teacher))
            SafeTensorsWriter.Save(teacherPath, weights);

        // Red images against blue ones, with a little noise.
        var rng = new Random(3);
        var rows = Enumerable.Range(0, 16).Select(i => new PixelRow
        {
            Label = i % 2 == 0 ? "red" : "blue",
            Pixels = Enumerable.Range(0, 3 * 256).Select(p => (p / 256 == (i % 2 == 0 ? 0 : 2) ? 220f : 30f) + rng.Next(0, 20)).ToArray(),
        }).ToList();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(rows);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.InitializeFromTeacher(new WeightSelectionOptions
            {
                Teacher = Teacher.FromFile(teacherPath, teacherSpec),
                Student = studentSpec,
                ImageColumnName = "Pixels",
                ImageSize = 16,
                Epochs = 1,
                BatchSize = 8,
                ValidationFraction = 0,
                Augmentation = AugmentationOptions.None,
                Threads = 1,
            }));
        var model = pipeline.Fit(data);
        var scores = model.Transform(data).GetColumn<float[]>("Score").ToArray();
        Assert.Equal(16, scores.Length);
        Assert.All(scores, s => { Assert.Equal(2, s.Length); Assert.Equal(1.0, s.Sum(), 4); });
    }
}

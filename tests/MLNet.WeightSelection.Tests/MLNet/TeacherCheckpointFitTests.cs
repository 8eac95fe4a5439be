using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.ConvNeXt;
using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Models.Vit;
using MLNet.WeightSelection.Tests.Models;
using MLNet.WeightSelection.Training;
using TorchSharp;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>
/// Teachers in a family's other key layouts reach <c>Fit</c> through the family's checkpoint filter, as they reach
/// <c>ws select</c>: Meta's original ConvNeXt names and a DeiT-3 ViT (<c>gamma_1</c>/<c>gamma_2</c>, here also with
/// DataParallel's <c>module.</c> prefix) give the same fitted model as the same weights in timm's names.
/// </summary>
[Collection(nameof(MLNetFits))]
public class TeacherCheckpointFitTests
{
    [Fact]
    public void A_meta_named_convnext_teacher_fits_like_the_same_weights_in_timms_names()
    {
        var teacher = new ConvNeXtSpec { Depths = new[] { 1, 1, 2, 1 }, Dims = new[] { 8, 16, 24, 32 }, NumClasses = 10, ImageSize = 32 };
        var student = new ConvNeXtSpec { Depths = new[] { 1, 1, 1, 1 }, Dims = new[] { 4, 8, 12, 16 }, NumClasses = 3, ImageSize = 32 };
        AssertSameFit(teacher, student, CheckpointLayouts.MetaConvNeXtKey, "downsample_layers.0.0.weight");
    }

    [Fact]
    public void A_deit3_vit_teacher_with_a_module_prefix_fits_like_the_same_weights_in_timms_names()
    {
        var teacher = new VisionTransformerSpec { ImageSize = 16, PatchSize = 4, EmbedDim = 32, Depth = 2, NumHeads = 4, InitValues = 0.1, NumClasses = 10 };
        var student = teacher with { EmbedDim = 16, Depth = 1, NumHeads = 2, NumClasses = 3 };
        AssertSameFit(teacher, student, key => "module." + CheckpointLayouts.Deit3Key(key), "module.blocks.0.gamma_1");
    }

    [Fact]
    public void A_teacher_of_another_family_is_refused_before_training()
    {
        using var tmp = new TempFolder();
        var vit = new VisionTransformerSpec { ImageSize = 16, PatchSize = 4, EmbedDim = 32, Depth = 1, NumHeads = 4, NumClasses = 10 };
        string path = Save(tmp.File("vit.safetensors"), vit, key => key);
        var (ml, data, options) = Setup(tmp, Teacher.FromFile(path, new ConvNeXtSpec { Depths = new[] { 1, 1, 1, 1 }, Dims = new[] { 8, 16, 24, 32 } }),
            new ConvNeXtSpec { Depths = new[] { 1, 1, 1, 1 }, Dims = new[] { 4, 8, 12, 16 }, NumClasses = 3, ImageSize = 32 });
        var epochs = new List<EpochMetrics>();
        options.MetricsCallback = epochs.Add;

        var e = Assert.Throws<ArgumentException>(() => ml.Transforms.InitializeFromTeacher(options).Fit(data));
        Assert.Contains("is a vit checkpoint but its architecture is a convnext", e.Message);
        Assert.Contains(path, e.Message);
        Assert.Empty(epochs);
    }

    [Fact]
    public void A_teacher_given_without_its_architecture_fits_like_the_same_teacher_named()
    {
        using var tmp = new TempFolder();
        string path = Save(tmp.File("resnet18_half.safetensors"), ModelRegistry.GetSpec("resnet18_half"), key => key);
        var student = new ResNetSpec { Layers = new[] { 1, 1, 1, 1 }, Channels = new[] { 8, 16, 32, 64 }, StemWidth = 8, PlainStemWidth = 8, NumClasses = 3, ImageSize = 32 };
        var (ml, data, options) = Setup(tmp, Teacher.FromFile(path), student);
        var log = new List<string>();
        ml.Log += (_, e) => { if (e.Message.Contains("architecture, told from", StringComparison.Ordinal)) log.Add(e.Message); };

        using var detected = ml.Transforms.InitializeFromTeacher(options).Fit(data);
        var (expectedReport, expectedScores) = Fit(tmp, Teacher.FromFile(path, "resnet18_half"), student);

        Assert.Contains(log, m => m.Contains("resnet18_half (num_classes 1000)", StringComparison.Ordinal));
        Assert.Equal(expectedReport.Rows.Select(r => (r.StudentKey, r.TeacherKey, r.Method)), detected.SelectionReport!.Rows.Select(r => (r.StudentKey, r.TeacherKey, r.Method)));
        var scores = detected.Transform(data).GetColumn<float[]>("Score").ToArray();
        for (int i = 0; i < scores.Length; i++)
            Assert.Equal(expectedScores[i], scores[i]);
    }

    [Fact]
    public void A_teacher_without_architecture_that_matches_no_preset_is_refused_before_training()
    {
        using var tmp = new TempFolder();
        var vit = new VisionTransformerSpec { ImageSize = 16, PatchSize = 4, EmbedDim = 32, Depth = 1, NumHeads = 4, NumClasses = 10 };
        string path = Save(tmp.File("vit.safetensors"), vit, key => key);
        var (ml, data, options) = Setup(tmp, Teacher.FromFile(path), vit with { EmbedDim = 16, NumHeads = 2, NumClasses = 3 });
        var epochs = new List<EpochMetrics>();
        options.MetricsCallback = epochs.Add;

        var e = Assert.Throws<ArgumentException>(() => ml.Transforms.InitializeFromTeacher(options).Fit(data));

        Assert.Contains($"'{path}' is a vit checkpoint, but no registered vit preset", e.Message);
        Assert.Empty(epochs);
    }

    static void AssertSameFit(ModelSpec teacher, ModelSpec student, Func<string, string> rename, string renamedKey)
    {
        using var tmp = new TempFolder();
        string timm = Save(tmp.File("timm.safetensors"), teacher, key => key);
        string other = Save(tmp.File("other.safetensors"), teacher, rename);
        using (var file = SafeTensorsFile.Open(other)) Assert.Contains(renamedKey, file.Keys);

        var (expectedReport, expectedScores) = Fit(tmp, Teacher.FromFile(timm, teacher), student);
        var (report, scores) = Fit(tmp, Teacher.FromFile(other, teacher), student);

        Assert.DoesNotContain("checkpoint filter", expectedReport.Teacher);
        Assert.Contains("checkpoint filter", report.Teacher);
        Assert.Equal(expectedReport.Rows.Select(r => (r.StudentKey, r.TeacherKey, r.Method)), report.Rows.Select(r => (r.StudentKey, r.TeacherKey, r.Method)));
        Assert.Equal(expectedReport.Widths.Select(w => w.Indices), report.Widths.Select(w => w.Indices));
        Assert.Equal(expectedScores.Length, scores.Length);
        for (int i = 0; i < scores.Length; i++)
            for (int c = 0; c < scores[i].Length; c++)
                Assert.True(Math.Abs(expectedScores[i][c] - scores[i][c]) < 1e-5, $"row {i}, class {c}: {expectedScores[i][c]} vs {scores[i][c]}");
    }

    static string Save(string path, ModelSpec spec, Func<string, string> rename)
    {
        torch.manual_seed(7);
        using var model = spec.CreateModel();
        using var timm = StateDict.FromModule(model);
        using var renamed = new StateDict("renamed");
        foreach (var (key, value) in timm) renamed.Add(rename(key), value);
        SafeTensorsWriter.Save(path, renamed);
        return path;
    }

    static (global::MLNet.WeightSelection.Selection.SelectionReport Report, float[][] Scores) Fit(TempFolder tmp, Teacher teacher, ModelSpec student)
    {
        var (ml, data, options) = Setup(tmp, teacher, student);
        using var model = ml.Transforms.InitializeFromTeacher(options).Fit(data);
        var scores = model.Transform(data).GetColumn<float[]>("Score").ToArray();
        return (model.SelectionReport!, scores);
    }

    static (MLContext Ml, IDataView Data, WeightSelectionOptions Options) Setup(TempFolder tmp, Teacher teacher, ModelSpec student)
    {
        var rows = TestImages.Colours(tmp.Path, perClass: 3);
        var ml = new MLContext(seed: 1);
        var data = TestImages.LoadKeyed(ml, rows, tmp.Path);
        return (ml, data, new WeightSelectionOptions
        {
            Teacher = teacher,
            Student = student,
            Seed = 1,
            Epochs = 1,
            BatchSize = 3,
            ValidationFraction = 0,
            Augmentation = AugmentationOptions.None,
            TeacherAdaptation = TeacherAdaptationOptions.Off,
            Threads = 1,
        });
    }
}

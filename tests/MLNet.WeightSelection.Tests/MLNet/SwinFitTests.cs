using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.Swin;
using MLNet.WeightSelection.Tests.Models;
using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>
/// The whole ML.NET path with a Swin Transformer: the golden timm-made teacher initializes a student by weight
/// selection, one epoch of training, and the fitted transformer scores through the exported ONNX graph.
/// </summary>
[Collection(nameof(MLNetFits))]
public class SwinFitTests
{
    [Fact]
    public void ASwinStudentFitsFromTheGoldenTeacherAndScoresThroughOnnx()
    {
        using var tmp = new TempFolder();
        var golden = GoldenManifest.Case("swin_mini");
        var teacherSpec = ModelSpec.FromJson(golden.TeacherJson, "swin");
        var student = (SwinSpec)ModelSpec.FromJson(golden.StudentJson, "swin") with { NumClasses = 3 };
        var rows = TestImages.Colours(tmp.Path, perClass: 3);
        var ml = new MLContext(seed: 1);
        var data = TestImages.LoadKeyed(ml, rows, tmp.Path);
        var options = new WeightSelectionOptions
        {
            Teacher = Teacher.FromFile(golden.TeacherFile, teacherSpec),
            Student = student,
            Seed = 1,
            Epochs = 1,
            BatchSize = 3,
            ValidationFraction = 0,
            Augmentation = AugmentationOptions.None,
            TeacherAdaptation = TeacherAdaptationOptions.Off,
            Threads = 1,
        };

        using var model = ml.Transforms.InitializeFromTeacher(options).Fit(data);

        var report = model.SelectionReport!;
        Assert.Equal("swin", report.Family);
        Assert.Equal("kept student init", report.Row("head.fc.weight").Method);
        Assert.Equal("layers.1.downsample.reduction.weight", report.Row("layers.1.downsample.reduction.weight").TeacherKey);
        Assert.Equal("layers.0.blocks.1.attn.qkv.weight", report.Row("layers.0.blocks.1.attn.qkv.weight").TeacherKey);
        var scores = model.Transform(data).GetColumn<float[]>("Score").ToArray();
        Assert.Equal(rows.Count, scores.Length);
        Assert.All(scores, s =>
        {
            Assert.Equal(3, s.Length);
            Assert.True(Math.Abs(s.Sum() - 1) < 1e-4, $"scores sum to {s.Sum()}");
        });
    }

    [Fact]
    public void AtAnotherImageSizeTheAdaptedTeacherResamplesItsBiasTablesAndDistills()
    {
        // At 8 px stage 1's map (2 px) is one window of 2: the 32 px teacher's 5×5-offset tables load resampled to 3×3,
        // the adapted teacher initializes the student with whole heads, and logit distillation runs the teacher at
        // that size.
        using var tmp = new TempFolder();
        var golden = GoldenManifest.Case("swin_mini");
        var teacherSpec = ModelSpec.FromJson(golden.TeacherJson, "swin");
        var student = (SwinSpec)ModelSpec.FromJson(golden.StudentJson, "swin") with { NumClasses = 3 };
        var rows = TestImages.Colours(tmp.Path, perClass: 3);
        var ml = new MLContext(seed: 1);
        var data = TestImages.LoadKeyed(ml, rows, tmp.Path);
        var options = new WeightSelectionOptions
        {
            Teacher = Teacher.FromFile(golden.TeacherFile, teacherSpec),
            Student = student,
            ImageSize = 8,
            Seed = 1,
            Epochs = 1,
            BatchSize = 3,
            ValidationFraction = 0,
            Augmentation = AugmentationOptions.None,
            TeacherAdaptation = new TeacherAdaptationOptions { Epochs = 1 },
            Distillation = DistillationOptions.Logits(),
            WholeHeads = true,
            Threads = 1,
        };

        using var model = ml.Transforms.InitializeFromTeacher(options).Fit(data);

        var report = model.SelectionReport!;
        Assert.True(report.WholeHeads);
        var table = report.Row("layers.1.blocks.0.attn.relative_position_bias_table");
        Assert.Equal(new long[] { 9, 2 }, table.StudentShape);
        Assert.Equal(new long[] { 9, 4 }, table.TeacherShape);
        var scores = model.Transform(data).GetColumn<float[]>("Score").ToArray();
        Assert.All(scores, s => Assert.True(Math.Abs(s.Sum() - 1) < 1e-4, $"scores sum to {s.Sum()}"));
    }
}

using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.EfficientNet;
using MLNet.WeightSelection.Tests.Models;
using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>
/// The whole ML.NET path with an EfficientNet: the golden timm-made teacher initializes a student by weight selection,
/// one epoch of training, and the fitted transformer scores through the exported ONNX graph.
/// </summary>
[Collection(nameof(MLNetFits))]
public class EfficientNetFitTests
{
    [Fact]
    public void AnEfficientNetStudentFitsFromTheGoldenTeacherAndScoresThroughOnnx()
    {
        using var tmp = new TempFolder();
        var golden = GoldenManifest.Case("efficientnet_mini");
        var teacherSpec = ModelSpec.FromJson(golden.TeacherJson, "efficientnet");
        var student = (EfficientNetSpec)ModelSpec.FromJson(golden.StudentJson, "efficientnet") with { NumClasses = 3, ImageSize = 32 };
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
        Assert.Equal("efficientnet", report.Family);
        Assert.Equal("kept student init", report.Row("classifier.weight").Method);
        Assert.Equal("blocks.1.1.conv_pwl.weight", report.Row("blocks.1.1.conv_pwl.weight").TeacherKey);
        var scores = model.Transform(data).GetColumn<float[]>("Score").ToArray();
        Assert.Equal(rows.Count, scores.Length);
        Assert.All(scores, s =>
        {
            Assert.Equal(3, s.Length);
            Assert.True(Math.Abs(s.Sum() - 1) < 1e-4, $"scores sum to {s.Sum()}");
        });
    }
}

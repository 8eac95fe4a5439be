using Microsoft.ML;
using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary><see cref="WeightSelectionOptions.Ema"/> through <c>Fit</c>: reported in the fitted model, refused without validation.</summary>
[Collection(nameof(MLNetFits))]
public class EmaFitTests
{
    static WeightSelectionOptions Options(string teacher, double validationFraction) => new()
    {
        Teacher = Teacher.FromFile(teacher, TinyModels.Teacher()),
        Student = TinyModels.Student(),
        ImageSize = 32,
        Epochs = 2,
        BatchSize = 8,
        Augmentation = AugmentationOptions.None,
        Threads = 1,
        TeacherAdaptation = TeacherAdaptationOptions.Off,
        ValidationFraction = validationFraction,
        Ema = new EmaOptions(),
    };

    [Fact]
    public void AFitWithEmaReportsBothScoresAndWhichWeightsItKept()
    {
        using var tmp = new TempFolder();
        var rows = TestImages.Colours(tmp.Path, perClass: 10);
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(rows);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.LoadImages("Image", tmp.Path, "ImagePath"))
            .Append(ml.Transforms.InitializeFromTeacher(Options(TinyModels.SaveTeacher(tmp.Path), 0.2)));
        var model = pipeline.Fit(data);
        using var fitted = (WeightSelectionTransformer)model.LastTransformer;

        Assert.Equal(2, fitted.History.Count);
        Assert.All(fitted.History, m => Assert.InRange(m.EmaValidationAccuracy, 0.0, 1.0));
        Assert.All(fitted.History, m => Assert.True(double.IsFinite(m.EmaValidationLoss)));
        Assert.Equal(fitted.History[^1].EmaIsBetter, fitted.Training.KeptEma);
    }

    [Fact]
    public void EmaWithoutValidationIsRefusedBeforeTheDataIsRead()
    {
        using var tmp = new TempFolder();
        var ml = new MLContext(seed: 1);
        // The image does not exist: reading the data would fail with another message.
        var data = ml.Data.LoadFromEnumerable(new[]
        {
            new TestImages.Row { ImagePath = "missing.png", Label = "red" },
            new TestImages.Row { ImagePath = "missing.png", Label = "green" },
        });
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.LoadImages("Image", tmp.Path, "ImagePath"))
            .Append(ml.Transforms.InitializeFromTeacher(Options(TinyModels.SaveTeacher(tmp.Path), 0)));
        var error = Assert.Throws<ArgumentException>(() => pipeline.Fit(data));
        Assert.Contains("WeightSelectionOptions.Ema needs validation data", error.Message);
    }
}

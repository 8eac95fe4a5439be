using Microsoft.ML;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>The linear probe trains ML.NET's LbfgsMaximumEntropy on a frozen, untrained student's features.</summary>
[Collection(nameof(MLNetFits))]
public class LinearProbeTests
{
    [Fact]
    public void Probe_measures_a_selected_and_a_random_student_on_held_out_data()
    {
        string folder = TestPaths.NewTempDirectory();
        var ml = new MLContext(seed: 1);
        var trainRows = TestImages.Colours(folder, perClass: 8, seed: 1);
        string testFolder = TestPaths.NewTempDirectory();
        var testRows = TestImages.Colours(testFolder, perClass: 6, seed: 2);
        var toKey = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(trainRows));
        IDataView Load(List<TestImages.Row> rows, string dir) =>
            ml.Transforms.LoadImages("Image", dir, "ImagePath").Fit(toKey.Transform(ml.Data.LoadFromEnumerable(rows))).Transform(toKey.Transform(ml.Data.LoadFromEnumerable(rows)));

        var options = new WeightSelectionOptions
        {
            Teacher = Teacher.FromFile(TinyModels.SaveTeacher(folder), TinyModels.Teacher()),
            Student = TinyModels.Student(),
            ImageSize = 32,
        };
        var selected = WeightSelectionLinearProbe.Evaluate(ml, Load(trainRows, folder), Load(testRows, testFolder), options);
        options.Initialization = Initialization.Random;
        var random = WeightSelectionLinearProbe.Evaluate(ml, Load(trainRows, folder), Load(testRows, testFolder), options);

        Assert.Equal(64, selected.FeatureCount);
        Assert.NotNull(selected.SelectionReport);
        Assert.Null(random.SelectionReport);
        Assert.Equal(3, selected.Metrics.ConfusionMatrix.NumberOfClasses);
        Assert.Equal(18, selected.Metrics.ConfusionMatrix.Counts.Sum(r => r.Sum()));
        // Colour classes are linearly separable even from frozen random-conv features.
        Assert.True(selected.Accuracy >= 0.8, $"selected {selected.Accuracy:P1}");
        Assert.True(random.Accuracy >= 0.8, $"random {random.Accuracy:P1}");
    }
}

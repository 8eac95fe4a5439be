using Microsoft.ML;
using MLNet.WeightSelection.MLNet;
using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>The options' token and MLContext.CancelExecution() stop Fit with a clear OperationCanceledException.</summary>
[Collection(nameof(MLNetFits))]
public class CancellationTests
{
    static (MLContext Ml, IDataView Data, WeightSelectionOptions Options, List<EpochMetrics> Epochs) Setup()
    {
        string folder = TestPaths.NewTempDirectory();
        var rows = TestImages.Colours(folder, perClass: 8);
        var ml = new MLContext(seed: 1);
        var data = TestImages.LoadKeyed(ml, rows, folder);
        var epochs = new List<EpochMetrics>();
        var options = new WeightSelectionOptions
        {
            Teacher = Teacher.FromFile(TinyModels.SaveTeacher(folder), TinyModels.Teacher()),
            Student = TinyModels.Student(),
            ImageSize = 32,
            Epochs = 4,
            BatchSize = 8,
            ValidationFraction = 0,
            Augmentation = AugmentationOptions.None,
            Threads = 1,
            TeacherAdaptation = TeacherAdaptationOptions.Off,
            CheckpointDirectory = Path.Combine(folder, "checkpoints"),
        };
        return (ml, data, options, epochs);
    }

    [Fact]
    public void The_options_token_stops_training_after_the_current_epoch()
    {
        var (ml, data, options, epochs) = Setup();
        using var source = new CancellationTokenSource();
        options.CancellationToken = source.Token;
        options.MetricsCallback = m => { epochs.Add(m); source.Cancel(); };
        var e = Assert.ThrowsAny<OperationCanceledException>(() => ml.Transforms.InitializeFromTeacher(options).Fit(data));
        Assert.Contains("WeightSelectionOptions.CancellationToken", e.Message);
        Assert.Single(epochs);
        Assert.NotEmpty(Directory.GetFiles(options.CheckpointDirectory!, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void CancelExecution_stops_training_after_the_current_epoch()
    {
        var (ml, data, options, epochs) = Setup();
        // ML.NET 5.0 keeps MLContext.CancelExecution() internal; call it as ML.NET's own tools do.
        options.MetricsCallback = m => { epochs.Add(m); EnvironmentAccess.CancelExecution(ml); };
        var e = Assert.ThrowsAny<OperationCanceledException>(() => ml.Transforms.InitializeFromTeacher(options).Fit(data));
        Assert.Contains("MLContext.CancelExecution()", e.Message);
        Assert.Single(epochs);
    }

    [Fact]
    public void A_token_cancelled_before_Fit_stops_it_before_training()
    {
        var (ml, data, options, epochs) = Setup();
        options.CancellationToken = new CancellationToken(canceled: true);
        options.MetricsCallback = epochs.Add;
        Assert.ThrowsAny<OperationCanceledException>(() => ml.Transforms.InitializeFromTeacher(options).Fit(data));
        Assert.Empty(epochs);
    }
}

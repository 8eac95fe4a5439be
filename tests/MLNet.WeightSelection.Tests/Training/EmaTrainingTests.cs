using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.Training;

[Collection(nameof(GlobalTorchState))]
public class EmaTrainingTests
{
    // A slow average without warmup stays near the first step's weights, so on this task it loses to the live ones.
    static EmaOptions SlowEma => new() { Decay = 0.999, Warmup = false };

    static TrainingOptions WithEma(EmaOptions? ema, int epochs = 3, string? checkpoints = null)
    {
        var options = TrainingData.FastOptions(epochs);
        options.Ema = ema;
        options.CheckpointDirectory = checkpoints;
        return options;
    }

    [Fact]
    public void EmaIsOffByDefaultAndReportsNothing()
    {
        Assert.Null(new TrainingOptions().Ema);

        using var train = TrainingData.Separable(48, size: 16, seed: 1);
        using var validation = TrainingData.Separable(16, size: 16, seed: 2);
        using var model = TinyClassifier.Create(4, seed: 3);
        var lines = new List<string>();
        var result = new ImageClassifierTrainer(TrainingData.FastOptions(2)).Train(model, train, validation, log: lines.Add);

        Assert.False(result.KeptEma);
        Assert.All(result.History, m =>
        {
            Assert.True(double.IsNaN(m.EmaValidationAccuracy) && double.IsNaN(m.EmaValidationTop5) && double.IsNaN(m.EmaValidationLoss));
            Assert.False(m.EmaIsBetter);
            Assert.Equal(m.ValidationAccuracy, m.BestValidationAccuracy);
        });
        Assert.DoesNotContain(lines, l => l.Contains("EMA", StringComparison.Ordinal));
    }

    [Fact]
    public void EmaLeavesTheLiveTrajectoryUntouchedAndKeepsLiveWeightsWhenTheyScoreBetter()
    {
        using var train = TrainingData.Separable(64, size: 16, seed: 1);
        using var validation = TrainingData.Separable(32, size: 16, seed: 2);
        using var off = TinyClassifier.Create(4, seed: 3);
        using var on = TinyClassifier.Create(4, seed: 3);
        var plain = new ImageClassifierTrainer(WithEma(null)).Train(off, train, validation);
        var lines = new List<string>();
        var averaged = new ImageClassifierTrainer(WithEma(SlowEma)).Train(on, train, validation, log: lines.Add);

        // The average is updated under no_grad and draws no random numbers: the live run is the same bit for bit.
        Assert.Equal(plain.History.Select(m => m.TrainLoss), averaged.History.Select(m => m.TrainLoss));
        Assert.Equal(plain.History.Select(m => m.ValidationAccuracy), averaged.History.Select(m => m.ValidationAccuracy));
        Assert.Equal(plain.History.Select(m => m.ValidationLoss), averaged.History.Select(m => m.ValidationLoss));
        Assert.All(averaged.History, m => Assert.InRange(m.EmaValidationAccuracy, 0.0, 1.0));
        Assert.All(averaged.History, m => Assert.True(double.IsFinite(m.EmaValidationLoss)));
        Assert.Contains(lines, l => l.Contains("EMA [decay 0.999, warmup off]", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("epoch 3:", StringComparison.Ordinal) && l.Contains("EMA val acc", StringComparison.Ordinal));

        var last = averaged.History[^1];
        Assert.True(last.ValidationAccuracy > last.EmaValidationAccuracy, $"live {last.ValidationAccuracy}, EMA {last.EmaValidationAccuracy}");
        Assert.False(averaged.KeptEma);
        Assert.Equal(0.0, TrainingData.MaxDifference(TrainingData.Snapshot(off), TrainingData.Snapshot(on)));
    }

    [Fact]
    public void TheBetterWeightsAreKeptAndScoreAsReported()
    {
        using var train = TrainingData.Separable(64, size: 16, seed: 1);
        using var validation = TrainingData.Separable(32, size: 16, seed: 2);
        using var model = TinyClassifier.Create(4, seed: 3);
        using var live = TinyClassifier.Create(4, seed: 3);
        // One epoch at a high learning rate: here the average scores as well as the live weights (50%) at a lower loss.
        var options = WithEma(new EmaOptions(), epochs: 1);
        options.LearningRate = 0.05;
        var result = new ImageClassifierTrainer(options).Train(model, train, validation);
        var liveOptions = WithEma(null, epochs: 1);
        liveOptions.LearningRate = 0.05;
        new ImageClassifierTrainer(liveOptions).Train(live, train, validation);

        var last = result.History[^1];
        Assert.Equal(last.EmaIsBetter, result.KeptEma);
        Assert.True(result.KeptEma, $"live {last.ValidationAccuracy} / {last.ValidationLoss}, EMA {last.EmaValidationAccuracy} / {last.EmaValidationLoss}");
        var kept = ImageClassifierTrainer.Evaluate(model, validation);
        Assert.Equal(last.EmaValidationAccuracy, kept.Accuracy);
        Assert.Equal(last.EmaValidationLoss, kept.Loss, 6);
        Assert.True(TrainingData.MaxDifference(TrainingData.Snapshot(live), TrainingData.Snapshot(model)) > 0);
    }

    [Fact]
    public void EarlyStoppingRestoresTheBetterWeightsOfTheBestEpoch()
    {
        using var train = TrainingData.Separable(64, size: 16, seed: 1);
        using var validation = TrainingData.Separable(32, size: 16, seed: 2);
        using var model = TinyClassifier.Create(4, seed: 3);
        var options = WithEma(new EmaOptions(), epochs: 5);
        options.LearningRate = 0.05;
        // No later epoch can beat epoch 1 by 100 points, so training stops after epoch 3 and restores epoch 1.
        options.EarlyStopping = new EarlyStoppingOptions { Patience = 2, MinDelta = 1.0 };
        var result = new ImageClassifierTrainer(options).Train(model, train, validation);

        Assert.True(result.StoppedEarly);
        Assert.Equal(1, result.BestEpoch);
        var best = result.History[0];
        Assert.True(result.KeptEma, $"live {best.ValidationAccuracy} / {best.ValidationLoss}, EMA {best.EmaValidationAccuracy} / {best.EmaValidationLoss}");
        var kept = ImageClassifierTrainer.Evaluate(model, validation);
        Assert.Equal(best.EmaValidationAccuracy, kept.Accuracy);
        Assert.Equal(best.EmaValidationLoss, kept.Loss, 6);
    }

    [Fact]
    public void AResumedRunWithEmaEndsBitIdenticalToAnUninterruptedOne()
    {
        using var train = TrainingData.Separable(48, size: 16, seed: 1);
        using var validation = TrainingData.Separable(16, size: 16, seed: 2);
        using var uninterrupted = TinyClassifier.Create(4, seed: 3);
        var initial = uninterrupted.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var reference = new ImageClassifierTrainer(WithEma(new EmaOptions())).Train(uninterrupted, train, validation);

        using var tmp = new TempFolder();
        using (var first = TinyClassifier.Create(4, seed: 5))
        using (var cts = new CancellationTokenSource())
        {
            first.load_state_dict(initial);
            Assert.ThrowsAny<OperationCanceledException>(() => new ImageClassifierTrainer(WithEma(new EmaOptions(), checkpoints: tmp.Path))
                .Train(first, train, validation, onEpoch: _ => cts.Cancel(), cancellationToken: cts.Token));
        }
        // A different initialization: both the live weights and the average must come from the checkpoint.
        using var resumedModel = TinyClassifier.Create(4, seed: 99);
        var resumed = new ImageClassifierTrainer(WithEma(new EmaOptions(), checkpoints: tmp.Path)).Train(resumedModel, train, validation);

        Assert.True(resumed.Resumed);
        Assert.Equal(reference.History.Select(m => (m.TrainLoss, m.ValidationLoss, m.EmaValidationAccuracy, m.EmaValidationLoss)),
            resumed.History.Select(m => (m.TrainLoss, m.ValidationLoss, m.EmaValidationAccuracy, m.EmaValidationLoss)));
        Assert.Equal(reference.KeptEma, resumed.KeptEma);
        Assert.Equal(0.0, TrainingData.MaxDifference(TrainingData.Snapshot(uninterrupted), TrainingData.Snapshot(resumedModel)));
    }

    [Fact]
    public void AVersion1CheckpointWrittenBeforeEmaExistedStillResumes()
    {
        using var train = TrainingData.Separable(32, size: 8, seed: 1);
        using var validation = TrainingData.Separable(16, size: 8, seed: 2);
        using var model = TinyClassifier.Create(4, seed: 3);
        using var tmp = new TempFolder();
        var first = new ImageClassifierTrainer(WithEma(null, epochs: 1, checkpoints: tmp.Path)).Train(model, train, validation);
        var trained = TrainingData.Snapshot(model);
        string path = Path.Combine(tmp.Path, TrainingCheckpoint.FileName);
        File.WriteAllBytes(path, AsVersion1(File.ReadAllBytes(path)));

        using var other = TinyClassifier.Create(4, seed: 5);
        var again = new ImageClassifierTrainer(WithEma(null, epochs: 1, checkpoints: tmp.Path)).Train(other, train, validation);
        Assert.True(again.Resumed);
        Assert.Equal(first.History, again.History);
        Assert.Equal(0.0, TrainingData.MaxDifference(trained, TrainingData.Snapshot(other)));
    }

    /// <summary>
    /// Rewrites a version 2 checkpoint without EMA in the version 1 layout: no EMA figures after each epoch's metrics
    /// and no EMA flag at the end.
    /// </summary>
    static byte[] AsVersion1(byte[] version2)
    {
        using var input = new BinaryReader(new MemoryStream(version2));
        using var buffer = new MemoryStream();
        using var output = new BinaryWriter(buffer);
        output.Write(input.ReadString());
        Assert.Equal(2, input.ReadInt32());
        output.Write(1);
        int entries = input.ReadInt32();
        output.Write(entries);
        for (int i = 0; i < 2 * entries; i++) output.Write(input.ReadString());
        output.Write(input.ReadBytes(4 + 8 + 4 + 8 + 4 + 1 + 8)); // counters, best metric, flags, elapsed
        int history = input.ReadInt32();
        output.Write(history);
        for (int i = 0; i < history; i++)
        {
            output.Write(input.ReadBytes(4 + 7 * 8 + 8)); // the version 1 metrics
            for (int j = 0; j < 3; j++) Assert.True(double.IsNaN(input.ReadDouble()));
        }
        var rest = input.ReadBytes(version2.Length - (int)input.BaseStream.Position);
        Assert.Equal(0, rest[^1]); // the EMA flag: false
        output.Write(rest, 0, rest.Length - 1);
        output.Flush();
        return buffer.ToArray();
    }

    [Fact]
    public void ACheckpointWithoutEmaIsNotResumedWithEma()
    {
        using var train = TrainingData.Separable(32, size: 8, seed: 1);
        using var validation = TrainingData.Separable(16, size: 8, seed: 2);
        using var model = TinyClassifier.Create(4, seed: 3);
        using var tmp = new TempFolder();
        new ImageClassifierTrainer(WithEma(null, epochs: 1, checkpoints: tmp.Path)).Train(model, train, validation);

        var error = Assert.Throws<InvalidOperationException>(() =>
            new ImageClassifierTrainer(WithEma(new EmaOptions(), epochs: 1, checkpoints: tmp.Path)).Train(model, train, validation));
        Assert.Contains("Ema: checkpoint '(none)', now 'decay 0.9998, warmup power 0.6666666666666666'", error.Message);
    }

    [Fact]
    public void EmaWithoutValidationIsRefusedBeforeTraining()
    {
        using var train = TrainingData.Separable(32, size: 8, seed: 1);
        using var model = TinyClassifier.Create(4, seed: 3);
        using var tmp = new TempFolder();
        int epochs = 0;
        var error = Assert.Throws<ArgumentException>(() =>
            new ImageClassifierTrainer(WithEma(new EmaOptions(), checkpoints: tmp.Path)).Train(model, train, null, onEpoch: _ => epochs++));
        Assert.Contains("Ema needs validation data", error.Message);
        Assert.Equal(0, epochs);
        Assert.Empty(Directory.EnumerateFileSystemEntries(tmp.Path));
    }
}

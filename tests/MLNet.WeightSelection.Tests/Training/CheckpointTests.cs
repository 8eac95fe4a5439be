using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.Training;

[Collection(nameof(GlobalTorchState))]
public class CheckpointTests
{
    static TrainingOptions ResumableOptions(string? directory)
    {
        // The full recipe, so that resumption has to reproduce shuffles, crops, flips, erasing, mixing and dropout.
        var options = TrainingData.FastOptions(epochs: 3);
        options.Augmentation = AugmentationOptions.Default;
        options.Augmentation.RandomErasing = 0.5;
        options.CheckpointDirectory = directory;
        return options;
    }

    [Fact]
    public void CancellationThrowsAndLeavesTheLastCompletedEpoch()
    {
        string directory = TestPaths.NewTempDirectory();
        using var train = TrainingData.Separable(48, size: 16, seed: 1);
        using var model = TinyClassifier.Create(4, seed: 3);
        using var cts = new CancellationTokenSource();
        var options = ResumableOptions(directory);
        var error = Assert.ThrowsAny<OperationCanceledException>(() => new ImageClassifierTrainer(options)
            .Train(model, train, null, onEpoch: m => { if (m.Epoch == 2) cts.Cancel(); }, cancellationToken: cts.Token));

        Assert.Contains("epoch 3", error.Message);
        Assert.Contains("last completed epoch (2)", error.Message);
        Assert.Equal(cts.Token, error.CancellationToken);
        Assert.Equal(new[] { TrainingCheckpoint.FileName }, Directory.GetFiles(directory).Select(Path.GetFileName));

        // The checkpoint holds epoch 2: resuming runs only epoch 3.
        var epochs = new List<int>();
        var result = new ImageClassifierTrainer(options).Train(model, train, null, onEpoch: m => epochs.Add(m.Epoch));
        Assert.True(result.Resumed);
        Assert.Equal(new[] { 3 }, epochs);
        Assert.Equal(new[] { 1, 2, 3 }, result.History.Select(m => m.Epoch));
    }

    [Fact]
    public void ResumedRunEndsBitIdenticalToAnUninterruptedOne()
    {
        using var train = TrainingData.Separable(48, size: 16, seed: 1);
        using var validation = TrainingData.Separable(16, size: 16, seed: 2);

        using var uninterrupted = TinyClassifier.Create(4, seed: 3, dropRate: 0.2);
        var initial = uninterrupted.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var reference = new ImageClassifierTrainer(ResumableOptions(null)).Train(uninterrupted, train, validation);

        string directory = TestPaths.NewTempDirectory();
        using (var first = TinyClassifier.Create(4, seed: 5, dropRate: 0.2))
        using (var cts = new CancellationTokenSource())
        {
            first.load_state_dict(initial);
            Assert.ThrowsAny<OperationCanceledException>(() => new ImageClassifierTrainer(ResumableOptions(directory))
                .Train(first, train, validation, onEpoch: _ => cts.Cancel(), cancellationToken: cts.Token));
        }
        // A different initialization proves the weights come from the checkpoint.
        using var resumedModel = TinyClassifier.Create(4, seed: 99, dropRate: 0.2);
        var resumed = new ImageClassifierTrainer(ResumableOptions(directory)).Train(resumedModel, train, validation);

        Assert.True(resumed.Resumed);
        Assert.Equal(0.0, TrainingData.MaxDifference(TrainingData.Snapshot(uninterrupted), TrainingData.Snapshot(resumedModel)));
        Assert.Equal(reference.History.Select(m => m.TrainLoss), resumed.History.Select(m => m.TrainLoss));
        Assert.Equal(reference.History.Select(m => m.ValidationLoss), resumed.History.Select(m => m.ValidationLoss));
    }

    [Fact]
    public void ACompletedCheckpointReturnsItsResultWithoutTraining()
    {
        string directory = TestPaths.NewTempDirectory();
        using var train = TrainingData.Separable(32, size: 8, seed: 1);
        using var model = TinyClassifier.Create(4, seed: 3);
        var options = TrainingData.FastOptions(epochs: 2);
        options.CheckpointDirectory = directory;
        var first = new ImageClassifierTrainer(options).Train(model, train, null);
        var trained = TrainingData.Snapshot(model);

        using var other = TinyClassifier.Create(4, seed: 5);
        int calls = 0;
        var again = new ImageClassifierTrainer(options).Train(other, train, null, onEpoch: _ => calls++);
        Assert.Equal(0, calls);
        Assert.True(again.Resumed);
        Assert.Equal(first.History, again.History);
        Assert.Equal(0.0, TrainingData.MaxDifference(trained, TrainingData.Snapshot(other)));
    }

    [Fact]
    public void ACheckpointFromOtherOptionsIsRefusedClearly()
    {
        string directory = TestPaths.NewTempDirectory();
        using var train = TrainingData.Separable(32, size: 8, seed: 1);
        using var model = TinyClassifier.Create(4, seed: 3);
        var options = TrainingData.FastOptions(epochs: 1);
        options.CheckpointDirectory = directory;
        new ImageClassifierTrainer(options).Train(model, train, null);

        options.BatchSize = 8;
        var error = Assert.Throws<InvalidOperationException>(() => new ImageClassifierTrainer(options).Train(model, train, null));
        Assert.Contains("BatchSize: checkpoint '16', now '8'", error.Message);
        Assert.Contains(TrainingCheckpoint.FileName, error.Message);
    }

    [Fact]
    public void ACorruptCheckpointNamesTheFile()
    {
        string directory = TestPaths.NewTempDirectory();
        string path = Path.Combine(directory, TrainingCheckpoint.FileName);
        File.WriteAllBytes(path, new byte[] { 1, 2, 3 });
        using var train = TrainingData.Separable(32, size: 8, seed: 1);
        using var model = TinyClassifier.Create(4, seed: 3);
        var options = TrainingData.FastOptions(epochs: 1);
        options.CheckpointDirectory = directory;
        var error = Assert.Throws<InvalidDataException>(() => new ImageClassifierTrainer(options).Train(model, train, null));
        Assert.Contains(path, error.Message);
    }
}

using MLNet.WeightSelection.Training;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Training;

public class TrainerTests
{
    [Fact]
    public void TinyModelLearnsASeparableTaskAndReportsEveryEpoch()
    {
        using var train = TrainingData.Separable(128, size: 16, seed: 1);
        using var validation = TrainingData.Separable(64, size: 16, seed: 2);
        using var model = TinyClassifier.Create(4, seed: 3);
        var seen = new List<EpochMetrics>();
        var lines = new List<string>();
        var steps = new List<StepProgress>();
        var trainer = new ImageClassifierTrainer(TrainingData.FastOptions(epochs: 4)) { OnStep = steps.Add };
        var result = trainer.Train(model, train, validation, onEpoch: seen.Add, log: lines.Add);

        Assert.Equal(4, result.History.Count);
        Assert.Equal(seen, result.History);
        Assert.Equal(4 * 8, steps.Count);                  // 128 images in batches of 16
        Assert.Equal((4, 8, 8), (steps[^1].Epoch, steps[^1].Step, steps[^1].StepsPerEpoch));
        Assert.Equal(result.History[0].TrainLoss, steps.Take(8).Average(s => s.Loss), 12);
        Assert.Equal(result.History[^1].LearningRate, steps[^1].LearningRate);
        Assert.Equal(new[] { 1, 2, 3, 4 }, result.History.Select(m => m.Epoch));
        Assert.True(result.History[^1].ValidationAccuracy > 0.9, $"validation accuracy {result.History[^1].ValidationAccuracy}");
        Assert.True(result.History[^1].TrainLoss < result.History[0].TrainLoss);
        Assert.All(result.History, m =>
        {
            Assert.Equal(1.0, m.ValidationTop5);           // 4 classes: top-5 covers them all
            Assert.True(double.IsFinite(m.ValidationLoss));
            Assert.InRange(m.DataShare, 0.0, 1.0);
            Assert.True(m.ImagesPerSecond > 0);
            Assert.InRange(m.LearningRate, 1e-6, 1e-2);
        });
        Assert.True(result.History.Zip(result.History.Skip(1)).All(p => p.Second.Elapsed >= p.First.Elapsed));
        Assert.True(result.History[^1].LearningRate < result.History[0].LearningRate); // cosine decay
        Assert.False(result.StoppedEarly);
        Assert.False(result.Resumed);
        Assert.Contains(lines, l => l.Contains("epoch 4:", StringComparison.Ordinal) && l.Contains("val acc", StringComparison.Ordinal));
        Assert.True(model.training); // the training flag is restored
    }

    [Fact]
    public void FullRecipeWithMixingErasingAndDropoutRuns()
    {
        using var train = TrainingData.Separable(64, size: 16, seed: 1);
        using var model = TinyClassifier.Create(4, seed: 3, dropRate: 0.1);
        var options = TrainingData.FastOptions(epochs: 2);
        options.Augmentation = AugmentationOptions.Default;
        options.Augmentation.RandomErasing = 0.5;
        var result = new ImageClassifierTrainer(options).Train(model, train, validation: null);
        Assert.Equal(2, result.History.Count);
        Assert.All(result.History, m => Assert.True(double.IsFinite(m.TrainLoss) && m.TrainLoss > 0));
        Assert.All(result.History, m => Assert.True(double.IsNaN(m.ValidationAccuracy)));
    }

    [Fact]
    public void EvaluateCountsTheWholeSetIncludingTheLastPartialBatch()
    {
        // 130 images, batch 64: batches of 64, 64 and 2. Labels: 100 of class 0, then 30 of class 1 (the last
        // batch is all class 1). A model that always answers class 0 is right on exactly 100 of 130.
        var labels = Enumerable.Range(0, 130).Select(i => i < 100 ? 0L : 1L).ToArray();
        using var data = new ImageTensorDataset(zeros(new long[] { 130, 3, 8, 8 }, ScalarType.Byte), tensor(labels), 2);
        using var model = TinyClassifier.Create(2, seed: 1);
        using (no_grad())
        {
            var state = model.state_dict();
            state["head.weight"].zero_();
            state["head.bias"].copy_(tensor(new float[] { 5, 0 }));
        }

        var metrics = ImageClassifierTrainer.Evaluate(model, data, batchSize: 64);

        Assert.Equal(130, metrics.Count);
        Assert.Equal(100.0 / 130, metrics.Accuracy, 12);
        Assert.Equal(1.0, metrics.Top5Accuracy);
        double expectedLoss = Math.Log(1 + Math.Exp(-5)) + 5.0 * 30 / 130;
        Assert.Equal(expectedLoss, metrics.Loss, 4);
        Assert.Equal(new long[,] { { 100, 0 }, { 30, 0 } }, metrics.ConfusionMatrix);
        Assert.True(model.training);
    }

    [Fact]
    public void NonFiniteLossStopsWithTheEpochAndStep()
    {
        using var train = TrainingData.Separable(64, size: 16, seed: 1);
        using var model = TinyClassifier.Create(4, seed: 3);
        var options = TrainingData.FastOptions(epochs: 2);
        options.LearningRate = 1e30;
        options.WarmupEpochs = 0;
        var error = Assert.Throws<TrainingDivergedException>(() => new ImageClassifierTrainer(options).Train(model, train, null));
        Assert.Equal(1, error.Epoch);
        Assert.InRange(error.Step, 2, 4);
        Assert.Contains($"epoch 1, step {error.Step} of 4", error.Message);
        Assert.False(double.IsFinite(error.Loss));
    }

    [Fact]
    public void EarlyStoppingStopsAndRestoresTheBestEpoch()
    {
        using var train = TrainingData.Separable(64, size: 16, seed: 1);
        using var validation = TrainingData.Separable(32, size: 16, seed: 2);
        using var model = TinyClassifier.Create(4, seed: 3);
        var options = TrainingData.FastOptions(epochs: 6);
        // No later epoch can beat epoch 1 by a whole 100 points of accuracy, so training stops after 1 + patience epochs.
        options.EarlyStopping = new EarlyStoppingOptions { Patience = 2, MinDelta = 1.0 };
        var snapshots = new List<Dictionary<string, float[]>>();
        var result = new ImageClassifierTrainer(options).Train(model, train, validation, onEpoch: _ => snapshots.Add(TrainingData.Snapshot(model)));

        Assert.True(result.StoppedEarly);
        Assert.Equal(3, result.History.Count);
        Assert.Equal(1, result.BestEpoch);
        var final = TrainingData.Snapshot(model);
        Assert.Equal(0, TrainingData.MaxDifference(snapshots[0], final));
        Assert.True(TrainingData.MaxDifference(snapshots[2], final) > 0);
        Assert.Equal(result.History[0].ValidationAccuracy, ImageClassifierTrainer.Evaluate(model, validation).Accuracy, 12);
    }

    [Fact]
    public void EarlyStoppingWithoutValidationWatchesTheTrainingLoss()
    {
        using var train = TrainingData.Separable(64, size: 16, seed: 1);
        using var model = TinyClassifier.Create(4, seed: 3);
        var options = TrainingData.FastOptions(epochs: 4);
        options.EarlyStopping = new EarlyStoppingOptions { Patience = 1, MinDelta = 100 };
        var result = new ImageClassifierTrainer(options).Train(model, train, null);
        Assert.True(result.StoppedEarly);
        Assert.Equal(2, result.History.Count);
        Assert.Equal(1, result.BestEpoch);
    }

    [Fact]
    public void MismatchedClassesAndBadOptionsFailBeforeTraining()
    {
        using var train = TrainingData.Separable(16, size: 8, classes: 4);
        using var model = TinyClassifier.Create(3, seed: 1);
        var error = Assert.Throws<ArgumentException>(() => new ImageClassifierTrainer(TrainingData.FastOptions()).Train(model, train, null));
        Assert.Contains("3 classes", error.Message);
        Assert.Contains("4", error.Message);

        Assert.Contains("Epochs", Assert.Throws<ArgumentException>(() => new ImageClassifierTrainer(new TrainingOptions { Epochs = 0 })).Message);
        Assert.Contains("LabelSmoothing", Assert.Throws<ArgumentException>(() => new ImageClassifierTrainer(new TrainingOptions { LabelSmoothing = 1 })).Message);
        var badAugmentation = new TrainingOptions { Augmentation = AugmentationOptions.Default };
        badAugmentation.Augmentation.RandomErasing = 2;
        Assert.Contains("RandomErasing", Assert.Throws<ArgumentException>(() => new ImageClassifierTrainer(badAugmentation)).Message);
    }

    [Fact]
    public void StepsPerEpochCoverEveryImageButNeverABatchOfOne()
    {
        Assert.Equal(3, TrainingRun.StepsPerEpoch(130, 64));  // 64, 64, 2
        Assert.Equal(2, TrainingRun.StepsPerEpoch(129, 64));  // the single leftover image is dropped
        Assert.Equal(2, TrainingRun.StepsPerEpoch(128, 64));
        Assert.Equal(1, TrainingRun.StepsPerEpoch(1, 64));
    }
}

[Collection(nameof(GlobalTorchState))]
public class TrainerThreadTests
{
    [Fact]
    public void ThreadsCapAppliesDuringTrainingAndIsRestored()
    {
        using var train = TrainingData.Separable(32, size: 8);
        using var model = TinyClassifier.Create(4, seed: 1);
        int before = get_num_threads();
        int during = -1;
        var options = TrainingData.FastOptions(epochs: 1);
        options.Threads = 1;
        new ImageClassifierTrainer(options).Train(model, train, null, onEpoch: _ => during = get_num_threads());
        Assert.Equal(1, during);
        Assert.Equal(before, get_num_threads());
    }
}

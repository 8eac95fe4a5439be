using MLNet.WeightSelection.Training;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Training;

public class BatchPrefetcherTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BatchesEqualDirectReadsInStepOrderWithAShortLastBatch(bool ahead)
    {
        using var data = TrainingData.Separable(30, size: 4, classes: 3, seed: 2);
        using var part = data.Subset(Enumerable.Range(0, 23).Select(i => (long)(22 - i)).ToList()); // reads through a row map
        using var order = randperm(part.Count, generator: new Generator(5));
        int steps = TrainingRun.StepsPerEpoch(part.Count, 10);
        Assert.Equal(3, steps);

        using var batches = new BatchPrefetcher(part, order, batchSize: 10, steps, ahead);
        for (int step = 0; step < steps; step++)
        {
            var (images, labels) = batches.Next();
            using (images)
            using (labels)
            using (var rows = order.narrow(0, step * 10, batches.Length(step)))
            {
                var (expectedImages, expectedLabels) = part.Batch(rows);
                Assert.Equal(step == 2 ? 3 : 10, images.shape[0]);
                Assert.Equal(expectedImages.data<byte>().ToArray(), images.data<byte>().ToArray());
                Assert.Equal(expectedLabels.data<long>().ToArray(), labels.data<long>().ToArray());
            }
        }
        Assert.Contains("All 3 batches", Assert.Throws<InvalidOperationException>(() => batches.Next()).Message);
    }

    [Fact]
    public void AnErrorGatheringABatchIsThrownByTheStepThatNeedsIt()
    {
        using var data = TrainingData.Separable(12, size: 4, classes: 3);
        using var order = tensor(new long[] { 0, 1, 2, 3, 4, 5, 6, 7, 99, 9, 10, 11 }); // row 99 does not exist
        using var batches = new BatchPrefetcher(data, order, batchSize: 4, steps: 3, ahead: true);
        for (int step = 0; step < 2; step++)
        {
            var (images, labels) = batches.Next(); // the bad batch is already being gathered during step 1
            images.Dispose();
            labels.Dispose();
        }
        Assert.ThrowsAny<Exception>(() => batches.Next());
    }

    [Fact]
    public void DisposingWithABatchInFlightFreesItAndRefusesAnOrderTooShort()
    {
        using var data = TrainingData.Separable(12, size: 4, classes: 3);
        using var order = randperm(12, generator: new Generator(1));
        var batches = new BatchPrefetcher(data, order, batchSize: 4, steps: 3, ahead: true);
        var (images, labels) = batches.Next();
        images.Dispose();
        labels.Dispose();
        batches.Dispose(); // waits for step 1's batch and frees it
        batches.Dispose();

        Assert.Contains("4 steps of 4", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchPrefetcher(data, order, 4, 4, ahead: true)).Message);
    }

    [Fact]
    public void TrainingReadingAheadEndsWithTheSameWeightsAsReadingEachBatchWhenAsked()
    {
        Dictionary<string, float[]> Train(bool ahead)
        {
            bool before = BatchPrefetcher.Enabled;
            BatchPrefetcher.Enabled = ahead;
            try
            {
                using var train = TrainingData.Separable(40, size: 16, seed: 4);
                using var model = TinyClassifier.Create(4, seed: 3);
                var options = TrainingData.FastOptions(epochs: 2, batchSize: 8);
                options.Augmentation = AugmentationOptions.Default;
                new ImageClassifierTrainer(options).Train(model, train, validation: null);
                return TrainingData.Snapshot(model);
            }
            finally
            {
                BatchPrefetcher.Enabled = before;
            }
        }
        Assert.Equal(0, TrainingData.MaxDifference(Train(ahead: true), Train(ahead: false)));
    }
}

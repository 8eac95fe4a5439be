using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.Training;

public class CosineScheduleTests
{
    [Fact]
    public void WarmsUpLinearlyThenDecaysByCosineToTheMinimum()
    {
        var s = new CosineSchedule(peak: 1e-3, minimum: 1e-6, warmupSteps: 10, totalSteps: 110);

        Assert.Equal(1e-6, s.LearningRate(0), 12);                          // warmup starts near 0
        Assert.Equal(1e-6 + (1e-3 - 1e-6) * 0.5, s.LearningRate(5), 12);    // halfway up, linearly
        Assert.Equal(1e-3, s.LearningRate(10), 12);                         // peak when warmup ends
        Assert.Equal((1e-3 + 1e-6) / 2, s.LearningRate(60), 12);            // cosine midpoint
        double quarter = 1e-6 + 0.5 * (1e-3 - 1e-6) * (1 + Math.Cos(Math.PI * 0.25));
        Assert.Equal(quarter, s.LearningRate(35), 12);
        Assert.Equal(1e-6, s.LearningRate(110), 12);                        // the end is the minimum
        Assert.Equal(1e-6 + 0.5 * (1e-3 - 1e-6) * (1 + Math.Cos(Math.PI * 0.99)), s.LearningRate(109), 12);
        for (long t = 11; t <= 110; t++) Assert.True(s.LearningRate(t) <= s.LearningRate(t - 1));
        for (long t = 1; t <= 10; t++) Assert.True(s.LearningRate(t) > s.LearningRate(t - 1));
    }

    [Fact]
    public void WithoutWarmupStartsAtThePeakAndTheMinimumIsCapped()
    {
        var s = new CosineSchedule(peak: 0.1, minimum: 0, warmupSteps: 0, totalSteps: 4);
        Assert.Equal(0.1, s.LearningRate(0), 12);
        Assert.Equal(0.05, s.LearningRate(2), 12);
        Assert.Equal(0.0, s.LearningRate(4), 12);

        var capped = new CosineSchedule(peak: 1e-7, minimum: 1e-6, warmupSteps: 2, totalSteps: 4);
        Assert.Equal(1e-7, capped.Minimum);
        Assert.Equal(1e-7, capped.LearningRate(0), 15);
    }

    [Fact]
    public void RejectsBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(0, 0, 0, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(1, 0, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(1, 0, 0, 10).LearningRate(-1));
    }
}

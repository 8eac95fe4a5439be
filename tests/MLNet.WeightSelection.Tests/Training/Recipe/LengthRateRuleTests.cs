using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.Training.Recipe;

/// <summary>Batch size by image count, epochs from the target steps with their clamps, √ learning-rate scaling, warmup fraction.</summary>
public class LengthRateRuleTests
{
    [Theory]
    [InlineData(1, 32)]
    [InlineData(3999, 32)]
    [InlineData(4000, 64)]
    [InlineData(19999, 64)]
    [InlineData(20000, 128)]
    [InlineData(1_000_000, 128)]
    public void The_batch_grows_with_the_number_of_images(int images, int batch) =>
        Assert.Equal(batch, TrainingRecipe.BatchSize(images));

    [Fact]
    public void Tiny_data_gets_the_most_epochs_and_huge_data_the_fewest()
    {
        Assert.Equal(TrainingRecipe.MaxEpochs, TrainingRecipe.Epochs(10, 32));
        Assert.Equal(TrainingRecipe.MinEpochs, TrainingRecipe.Epochs(10_000_000, 128));
    }

    [Fact]
    public void Between_the_clamps_the_epochs_give_at_least_the_target_steps_and_one_epoch_fewer_would_not()
    {
        int unclamped = 0;
        foreach (int batch in new[] { 16, 32, 64, 128 })
            for (int images = 50; images <= 200_000; images = images * 5 / 4)
            {
                int epochs = TrainingRecipe.Epochs(images, batch);
                Assert.InRange(epochs, TrainingRecipe.MinEpochs, TrainingRecipe.MaxEpochs);
                if (epochs == TrainingRecipe.MinEpochs || epochs == TrainingRecipe.MaxEpochs) continue;
                unclamped++;
                int steps = TrainingRun.StepsPerEpoch(images, batch);
                Assert.True(epochs * steps >= TrainingRecipe.TargetSteps, $"{images} images, batch {batch}: {epochs} × {steps} steps");
                Assert.True((epochs - 1) * steps < TrainingRecipe.TargetSteps, $"{images} images, batch {batch}: {epochs - 1} epochs would do");
            }
        Assert.True(unclamped > 10, "the sweep should cover the unclamped range");
    }

    [Fact]
    public void More_images_never_get_more_epochs()
    {
        int previous = int.MaxValue;
        for (int images = 1; images <= 100_000; images += 97)
        {
            int epochs = TrainingRecipe.Epochs(images, 32);
            Assert.True(epochs <= previous, $"{images} images: {epochs} epochs after {previous}");
            previous = epochs;
        }
    }

    [Fact]
    public void The_learning_rate_scales_with_the_square_root_of_the_batch()
    {
        Assert.Equal(TrainingRecipe.BaseLearningRate, TrainingRecipe.LearningRate(TrainingRecipe.BaseBatchSize), 12);
        Assert.Equal(2 * TrainingRecipe.BaseLearningRate, TrainingRecipe.LearningRate(4 * TrainingRecipe.BaseBatchSize), 12);
        Assert.Equal(TrainingRecipe.BaseLearningRate / 2, TrainingRecipe.LearningRate(TrainingRecipe.BaseBatchSize / 4), 12);
        Assert.Equal(TrainingRecipe.BaseLearningRate * Math.Sqrt(2), TrainingRecipe.LearningRate(2 * TrainingRecipe.BaseBatchSize), 12);
    }

    [Theory]
    [InlineData(40)]
    [InlineData(5000)]
    [InlineData(60000)]
    public void Fit_chains_the_rules_and_warms_up_over_the_fraction_of_the_steps(int images)
    {
        var recipe = TrainingRecipe.Fit(new RecipeSettings(), new DataProfile(images, 0, 10, 32, false), seed: 3);
        var s = recipe.Student;
        Assert.Equal(TrainingRecipe.BatchSize(images), s.BatchSize);
        Assert.Equal(TrainingRecipe.Epochs(images, s.BatchSize), s.Epochs);
        Assert.Equal(TrainingRecipe.LearningRate(s.BatchSize), s.LearningRate, 12);
        Assert.Equal(Math.Round(TrainingRecipe.WarmupFraction * s.Epochs, 2), s.WarmupEpochs, 12);
        // Warmup steps over all steps: the fraction, up to the rounding of the warmup to 0.01 epochs.
        int steps = TrainingRun.StepsPerEpoch(images, s.BatchSize);
        Assert.Equal(TrainingRecipe.WarmupFraction, s.WarmupEpochs * steps / (s.Epochs * (double)steps), 2);
        Assert.Equal(3, s.Seed);
    }
}

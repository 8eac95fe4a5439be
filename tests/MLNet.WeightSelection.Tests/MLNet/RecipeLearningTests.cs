using Microsoft.ML;
using MLNet.WeightSelection.Training;
using Xunit;
using Xunit.Abstractions;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>
/// Issue 13's point on tiny data: the same random-init student on the same 96 stripes images scores higher on held-out
/// images with the fitted recipe than with the old defaults (10 epochs of 64, lr 1e-3, one warmup epoch, the paper's
/// augmentation with mixup, cutmix and erasing, no EMA).
/// </summary>
[Collection(nameof(MLNetFits))]
public class RecipeLearningTests
{
    readonly ITestOutputHelper _output;

    public RecipeLearningTests(ITestOutputHelper output) => _output = output;

    static WeightSelectionOptions OldDefaults() => new()
    {
        ImageSize = 32,
        Epochs = 10,
        BatchSize = 64,
        LearningRate = 1e-3,
        WarmupEpochs = 1,
        Augmentation = AugmentationOptions.Default,
        Ema = EmaOptions.Off,
        TeacherAdaptation = TeacherAdaptationOptions.Off,
    };

    [Fact]
    public void The_fitted_recipe_beats_the_old_defaults_on_tiny_data()
    {
        // Measured here (held-out accuracy, old defaults → fitted recipe): seed 1 30.0 % → 61.7 %, seed 2 25.0 % → 64.2 %,
        // seed 3 29.2 % → 68.3 %; leads of 32 to 39 points. The old recipe gives 88 images 20 optimizer steps, and mixing
        // that small data; the fitted one 450 steps with a translation crop. 15 points leaves room for other CPUs.
        const int seed = 1;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var ml = new MLContext(seed: seed);
        var (trainPixels, trainLabels) = StripesTask.Generate(96, seed: 12);
        var (heldPixels, heldLabels) = StripesTask.Generate(120, seed: 13);
        var train = ml.Data.LoadFromEnumerable(StripesTask.Rows(trainPixels, trainLabels));
        var test = ml.Data.LoadFromEnumerable(StripesTask.Rows(heldPixels, heldLabels));
        var toKey = ml.Transforms.Conversion.MapValueToKey("Label").Fit(train);

        (double Accuracy, WeightSelectionTransformer Model) Run(WeightSelectionOptions options)
        {
            options.Student = TinyModels.Student() with { ImageSize = 32 };
            options.Initialization = Initialization.Random;
            options.Seed = seed;
            options.Threads = 1;
            var model = ml.Transforms.InitializeFromTeacher(options).Fit(toKey.Transform(train));
            return (ml.MulticlassClassification.Evaluate(model.Transform(toKey.Transform(test))).MicroAccuracy, model);
        }

        var (old, oldModel) = Run(OldDefaults());
        var (fitted, fittedModel) = Run(new WeightSelectionOptions());
        using (oldModel)
        using (fittedModel)
        {
            _output.WriteLine($"seed {seed}: old defaults {old:P1}; fitted recipe {fitted:P1} ({fittedModel.Recipe.Summary}); {clock.Elapsed.TotalSeconds:F1} s");
            Assert.True(fitted - old >= 0.15, $"fitted {fitted:P1} vs old {old:P1}");
        }
    }
}

using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.Training.Recipe;

/// <summary>Every member of <see cref="RecipeSettings"/> that is set wins as it is, and its choice says it was set.</summary>
public class ExplicitSettingsTests
{
    static readonly DataProfile Data = new(TrainingImages: 500, ValidationImages: 50, Classes: 5, ImageSize: 40, SelectsFromTeacher: true);

    /// <summary>The fitted members of <see cref="RecipeSettings"/>: every nullable one.</summary>
    static readonly string[] FittedMembers = typeof(RecipeSettings).GetProperties()
        .Where(p => Nullable.GetUnderlyingType(p.PropertyType) is not null || !p.PropertyType.IsValueType)
        .Select(p => p.Name).ToArray();

    public static TheoryData<string> Members() => new(FittedMembers);

    static RecipeSettings WithOne(string member) => member switch
    {
        nameof(RecipeSettings.ImageSize) => new() { ImageSize = 40 },
        nameof(RecipeSettings.Epochs) => new() { Epochs = 7 },
        nameof(RecipeSettings.BatchSize) => new() { BatchSize = 5 },
        nameof(RecipeSettings.LearningRate) => new() { LearningRate = 0.0123 },
        nameof(RecipeSettings.WarmupEpochs) => new() { WarmupEpochs = 0.5 },
        nameof(RecipeSettings.Augmentation) => new() { Augmentation = AugmentationOptions.None },
        nameof(RecipeSettings.Ema) => new() { Ema = new EmaOptions { Decay = 0.99 } },
        nameof(RecipeSettings.Distillation) => new() { Distillation = DistillationOptions.Features(0.5f) },
        nameof(RecipeSettings.TeacherAdaptation) => new() { TeacherAdaptation = new TeacherAdaptationOptions { Epochs = 2, LearningRate = 1e-4 } },
        nameof(RecipeSettings.RandAugment) => new() { RandAugment = RandAugmentOptions.Parse("rand-m9-mstd0.5-inc1") },
        _ => throw new ArgumentException($"No test value for {member}: a new recipe member needs one here."),
    };

    [Fact]
    public void Every_fitted_member_is_one_choice_in_a_fixed_order()
    {
        var recipe = TrainingRecipe.Fit(new RecipeSettings(), Data, seed: 1);
        Assert.Equal(10, FittedMembers.Length);
        Assert.Equal(FittedMembers.OrderBy(n => n), recipe.Choices.Select(c => c.Name).OrderBy(n => n));
        Assert.Equal(recipe.Choices.Select(c => c.Name), TrainingRecipe.Fit(WithOne("Epochs"), Data, seed: 2).Choices.Select(c => c.Name));
    }

    [Fact]
    public void With_nothing_set_every_choice_is_fitted_and_says_why()
    {
        var recipe = TrainingRecipe.Fit(new RecipeSettings(), Data, seed: 1);
        Assert.All(recipe.Choices, c =>
        {
            Assert.False(c.WasSet, c.Name);
            Assert.False(string.IsNullOrWhiteSpace(c.Reason), c.Name);
            Assert.DoesNotContain("(set)", c.ToString());
        });
    }

    [Theory]
    [MemberData(nameof(Members))]
    public void One_set_member_is_the_only_choice_marked_set(string member)
    {
        var recipe = TrainingRecipe.Fit(WithOne(member), Data, seed: 1);
        // A set Augmentation fixes its RandAugment too (null there means off), so both of its choices count as set.
        var set = member == nameof(RecipeSettings.Augmentation) ? new[] { member, nameof(RecipeSettings.RandAugment) } : new[] { member };
        foreach (var choice in recipe.Choices)
        {
            Assert.Equal(set.Contains(choice.Name), choice.WasSet);
            if (choice.WasSet)
            {
                Assert.Equal("", choice.Reason);
                Assert.EndsWith("(set)", choice.ToString());
            }
        }
    }

    [Theory]
    [MemberData(nameof(Members))]
    public void One_set_member_reaches_the_training_options_as_it_is(string member)
    {
        var settings = WithOne(member);
        var recipe = TrainingRecipe.Fit(settings, Data, seed: 1);
        var s = recipe.Student;
        var choice = recipe.Choices.Single(c => c.Name == member);
        switch (member)
        {
            case nameof(RecipeSettings.ImageSize): Assert.Equal("40", choice.Value); break;
            case nameof(RecipeSettings.Epochs): Assert.Equal(7, s.Epochs); Assert.Equal("7", choice.Value); break;
            case nameof(RecipeSettings.BatchSize): Assert.Equal(5, s.BatchSize); Assert.Equal(5, recipe.TeacherAdaptation!.BatchSize); break;
            case nameof(RecipeSettings.LearningRate): Assert.Equal(0.0123, s.LearningRate); break;
            case nameof(RecipeSettings.WarmupEpochs): Assert.Equal(0.5, s.WarmupEpochs); break;
            case nameof(RecipeSettings.Augmentation):
                Assert.Same(settings.Augmentation, s.Augmentation);
                Assert.Same(settings.Augmentation, recipe.TeacherAdaptation!.Augmentation);
                break;
            case nameof(RecipeSettings.Ema): Assert.Same(settings.Ema, s.Ema); break;
            case nameof(RecipeSettings.Distillation): Assert.Same(settings.Distillation, s.Distillation); break;
            case nameof(RecipeSettings.RandAugment):
                Assert.Same(settings.RandAugment, s.Augmentation.RandAugment);
                Assert.Equal(settings.RandAugment!.ToString(), choice.Value);
                break;
            case nameof(RecipeSettings.TeacherAdaptation):
                Assert.Equal(2, recipe.TeacherAdaptation!.Epochs);
                Assert.Equal(1e-4, recipe.TeacherAdaptation.LearningRate);
                break;
            default: throw new ArgumentException(member);
        }
    }

    [Fact]
    public void A_set_batch_drives_the_fitted_length_and_rate_and_a_set_length_drives_the_fitted_warmup()
    {
        var batch = TrainingRecipe.Fit(new RecipeSettings { BatchSize = 16 }, Data, seed: 1).Student;
        Assert.Equal(TrainingRecipe.Epochs(Data.TrainingImages, 16), batch.Epochs);
        Assert.Equal(TrainingRecipe.LearningRate(16), batch.LearningRate, 12);

        var length = TrainingRecipe.Fit(new RecipeSettings { Epochs = 40 }, Data, seed: 1);
        Assert.Equal(Math.Round(TrainingRecipe.WarmupFraction * 40, 2), length.Student.WarmupEpochs, 12);
        // The adaptation's fitted length is a sixth of the student's, rounded up, at half its rate.
        Assert.Equal(7, length.TeacherAdaptation!.Epochs);
        Assert.Equal(TrainingRecipe.AdaptationEpochs(40), length.TeacherAdaptation.Epochs);
        Assert.Equal(length.Student.LearningRate / 2, length.TeacherAdaptation.LearningRate, 12);
        Assert.Equal(1, TrainingRecipe.Fit(new RecipeSettings { Epochs = 1 }, Data, seed: 1).TeacherAdaptation!.Epochs);
    }

    [Fact]
    public void Weight_decay_and_label_smoothing_reach_both_runs_and_configure_runs_last()
    {
        var settings = new RecipeSettings { WeightDecay = 0.1, LabelSmoothing = 0.2 };
        var recipe = TrainingRecipe.Fit(settings, Data, seed: 9, t => { t.Threads = 1; t.CheckpointDirectory = "x"; });
        foreach (var run in new[] { recipe.Student, recipe.TeacherAdaptation! })
        {
            Assert.Equal(0.1, run.WeightDecay);
            Assert.Equal(0.2, run.LabelSmoothing);
            Assert.Equal(9, run.Seed);
        }
        Assert.Equal(1, recipe.Student.Threads);
        Assert.Equal("x", recipe.Student.CheckpointDirectory);
        // The adaptation is a run of its own: the caller gives it its own folder.
        Assert.Null(recipe.TeacherAdaptation!.CheckpointDirectory);
        // configure's result is validated like the rest.
        var e = Assert.Throws<ArgumentException>(() => TrainingRecipe.Fit(settings, Data, 9, t => t.Threads = 0));
        Assert.Contains("Threads must be at least 1", e.Message);
    }

    [Fact]
    public void A_set_value_out_of_range_is_refused_with_its_name()
    {
        Assert.Contains("Epochs must be at least 1; got 0", Assert.Throws<ArgumentException>(() => TrainingRecipe.Fit(new RecipeSettings { Epochs = 0 }, Data, 1)).Message);
        Assert.Contains("TeacherAdaptation.Epochs must be at least 1 when set; got 0", Assert.Throws<ArgumentException>(() =>
            TrainingRecipe.Fit(new RecipeSettings { TeacherAdaptation = new TeacherAdaptationOptions { Epochs = 0 } }, Data, 1)).Message);
        var both = new AugmentationOptions { RandomCropPadding = 2 };
        Assert.Contains("RandomCropPadding (2) and RandomResizedCrop are both on", Assert.Throws<ArgumentException>(() =>
            TrainingRecipe.Fit(new RecipeSettings { Augmentation = both }, Data, 1)).Message);
        Assert.Contains("at least one training image", Assert.Throws<ArgumentException>(() =>
            TrainingRecipe.Fit(new RecipeSettings(), Data with { TrainingImages = 0 }, 1)).Message);
    }
}

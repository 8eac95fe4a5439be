using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.Training.Recipe;

/// <summary>What EMA, teacher adaptation and distillation are fitted to, their Off values, and the settings refused.</summary>
public class OffValuesAndRefusalsTests
{
    static DataProfile Data(int validation = 50, bool selects = true) => new(500, validation, 5, 32, selects);

    [Fact]
    public void Ema_is_fitted_on_with_validation_and_off_without()
    {
        var on = TrainingRecipe.Fit(new RecipeSettings(), Data(validation: 50), 1);
        Assert.NotNull(on.Student.Ema);
        Assert.Equal(new EmaOptions().ToString(), on.Student.Ema!.ToString());
        Assert.Null(TrainingRecipe.Fit(new RecipeSettings(), Data(validation: 0), 1).Student.Ema);
    }

    [Fact]
    public void Adaptation_and_logit_distillation_are_fitted_on_when_the_student_is_selected_from_a_teacher()
    {
        var selected = TrainingRecipe.Fit(new RecipeSettings(), Data(selects: true), 1);
        Assert.NotNull(selected.TeacherAdaptation);
        Assert.IsType<LogitDistillation>(selected.Student.Distillation);
        // The teacher trains alone.
        Assert.Null(selected.TeacherAdaptation!.Distillation);
        Assert.Null(selected.TeacherAdaptation.Ema);

        var random = TrainingRecipe.Fit(new RecipeSettings(), Data(selects: false), 1);
        Assert.Null(random.TeacherAdaptation);
        Assert.Null(random.Student.Distillation);
        Assert.Equal("off", random.Choices.Single(c => c.Name == "TeacherAdaptation").Value);
    }

    [Fact]
    public void Ema_Off_turns_it_off_with_validation_and_is_accepted_without()
    {
        var off = TrainingRecipe.Fit(new RecipeSettings { Ema = EmaOptions.Off }, Data(validation: 50), 1);
        Assert.Null(off.Student.Ema);
        var choice = off.Choices.Single(c => c.Name == "Ema");
        Assert.Equal(("off", true), (choice.Value, choice.WasSet));
        Assert.Null(TrainingRecipe.Fit(new RecipeSettings { Ema = EmaOptions.Off }, Data(validation: 0), 1).Student.Ema);
    }

    [Fact]
    public void TeacherAdaptation_Off_uses_the_teacher_as_given_and_then_fits_no_distillation()
    {
        var off = TrainingRecipe.Fit(new RecipeSettings { TeacherAdaptation = TeacherAdaptationOptions.Off }, Data(selects: true), 1);
        Assert.Null(off.TeacherAdaptation);
        Assert.Null(off.Student.Distillation);
        Assert.True(off.Choices.Single(c => c.Name == "TeacherAdaptation").WasSet);
        Assert.False(off.Choices.Single(c => c.Name == "Distillation").WasSet);
        // Off is accepted with random init too: there is nothing to adapt, and nothing is.
        Assert.Null(TrainingRecipe.Fit(new RecipeSettings { TeacherAdaptation = TeacherAdaptationOptions.Off }, Data(selects: false), 1).TeacherAdaptation);
    }

    [Fact]
    public void Distillation_Off_keeps_the_adaptation_but_trains_without_distilling()
    {
        var off = TrainingRecipe.Fit(new RecipeSettings { Distillation = DistillationOptions.Off }, Data(selects: true), 1);
        Assert.NotNull(off.TeacherAdaptation);
        Assert.Null(off.Student.Distillation);
        var choice = off.Choices.Single(c => c.Name == "Distillation");
        Assert.Equal(("off", true), (choice.Value, choice.WasSet));
    }

    [Fact]
    public void A_set_distillation_applies_without_an_adaptation()
    {
        var features = DistillationOptions.Features(2f);
        var recipe = TrainingRecipe.Fit(new RecipeSettings { Distillation = features, TeacherAdaptation = TeacherAdaptationOptions.Off }, Data(), 1);
        Assert.Null(recipe.TeacherAdaptation);
        Assert.Same(features, recipe.Student.Distillation);
    }

    [Fact]
    public void The_Off_values_read_as_null_in_TrainingOptions_and_say_off()
    {
        var options = new TrainingOptions { Ema = EmaOptions.Off, Distillation = DistillationOptions.Off };
        Assert.Null(options.Ema);
        Assert.Null(options.Distillation);
        Assert.True(EmaOptions.Off.IsOff && DistillationOptions.Off.IsOff && TeacherAdaptationOptions.Off.IsOff);
        Assert.False(new EmaOptions().IsOff || DistillationOptions.Logits().IsOff || new TeacherAdaptationOptions().IsOff);
        Assert.Equal("off", EmaOptions.Off.ToString());
        Assert.Equal("off", DistillationOptions.Off.ToString());
        Assert.Equal("off", TeacherAdaptationOptions.Off.ToString());
    }

    [Fact]
    public void Ema_set_without_validation_is_refused_and_the_message_says_what_to_do()
    {
        var e = Assert.Throws<ArgumentException>(() => TrainingRecipe.Fit(new RecipeSettings { Ema = new EmaOptions() }, Data(validation: 0), 1));
        Assert.Contains("Ema needs validation data", e.Message);
        Assert.Contains("EmaOptions.Off", e.Message);
    }

    [Fact]
    public void TeacherAdaptation_set_with_random_init_is_refused_and_the_message_says_what_to_do()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            TrainingRecipe.Fit(new RecipeSettings { TeacherAdaptation = new TeacherAdaptationOptions() }, Data(selects: false), 1));
        Assert.Contains("not selected from a teacher (random init)", e.Message);
        Assert.Contains("TeacherAdaptationOptions.Off", e.Message);
    }

    [Fact]
    public void The_summary_names_the_data_and_every_choice_and_marks_the_set_ones()
    {
        var recipe = TrainingRecipe.Fit(new RecipeSettings { Epochs = 12, Ema = EmaOptions.Off }, new DataProfile(1234, 100, 7, 48, true), 1);
        string summary = recipe.Summary;
        Assert.StartsWith("Recipe for 1,234 training images of 7 classes at 48 px: ", summary);
        Assert.Equal(recipe.Summary, recipe.ToString());
        foreach (var choice in recipe.Choices) Assert.Contains(choice.ToString(), summary);
        Assert.Contains("Epochs 12 (set)", summary);
        Assert.Contains("Ema off (set)", summary);
        Assert.Contains($"BatchSize {TrainingRecipe.BatchSize(1234)},", summary);
        Assert.DoesNotContain("\n", summary);
    }
}

using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.Training;

/// <summary>
/// <see cref="RecipeSettings.RandAugment"/>: RandAugment in place of the fitted one, on top of an augmentation that is
/// fitted or set, or <see cref="RandAugmentOptions.Off"/>, without changing the caller's object.
/// </summary>
public class RecipeRandAugmentSettingTests
{
    static readonly DataProfile SmallImages = new(TrainingImages: 90, ValidationImages: 9, Classes: 3, ImageSize: 16, SelectsFromTeacher: true,
        StudentFamily: ModelFamilies.Get("resnet"));

    [Fact]
    public void RandAugment_is_added_to_the_fitted_augmentation_of_student_and_teacher_and_marked_set()
    {
        var randAugment = RandAugmentOptions.Parse("rand-m9-mstd0.5-inc1");
        var recipe = TrainingRecipe.Fit(new RecipeSettings { RandAugment = randAugment }, SmallImages, seed: 1);

        var fitted = TrainingRecipe.Augmentation(SmallImages.ImageSize, SmallImages.TrainingImages, SmallImages.Classes, SmallImages.StudentFamily);
        Assert.Same(randAugment, recipe.Student.Augmentation.RandAugment);
        Assert.Same(randAugment, recipe.TeacherAdaptation!.Augmentation.RandAugment);
        Assert.Equal(fitted.RandomCropPadding, recipe.Student.Augmentation.RandomCropPadding);
        Assert.False(recipe.Student.Augmentation.RandomResizedCrop);
        var choice = recipe.Choices.Single(c => c.Name == nameof(RecipeSettings.RandAugment));
        Assert.True(choice.WasSet);
        Assert.Equal(randAugment.ToString(), choice.Value);
        Assert.False(recipe.Choices.Single(c => c.Name == nameof(RecipeSettings.Augmentation)).WasSet);
    }

    [Fact]
    public void Without_it_small_data_gets_the_papers_RandAugment_for_student_and_teacher_and_larger_data_none()
    {
        var recipe = TrainingRecipe.Fit(new RecipeSettings(), SmallImages, seed: 1);
        string paper = RandAugmentOptions.Parse(TrainingRecipe.FittedRandAugment).ToString();
        Assert.Equal(paper, recipe.Student.Augmentation.RandAugment?.ToString());
        Assert.Equal(paper, recipe.TeacherAdaptation!.Augmentation.RandAugment?.ToString());
        var choice = recipe.Choices.Single(c => c.Name == nameof(RecipeSettings.RandAugment));
        Assert.Equal(paper, choice.Value);
        Assert.False(choice.WasSet);
        Assert.Equal($"the paper's below {TrainingRecipe.RandAugmentMaxImagesPerClass} images per class for resnet students", choice.Reason);

        var larger = TrainingRecipe.Fit(new RecipeSettings(), SmallImages with { TrainingImages = 3 * TrainingRecipe.RandAugmentMaxImagesPerClass }, seed: 1);
        Assert.Null(larger.Student.Augmentation.RandAugment);
        var off = larger.Choices.Single(c => c.Name == nameof(RecipeSettings.RandAugment));
        Assert.Equal("off", off.Value);
        Assert.StartsWith($"off from {TrainingRecipe.RandAugmentMaxImagesPerClass} images per class", off.Reason);
    }

    [Fact]
    public void A_ViT_student_on_the_same_small_data_gets_none_unless_it_is_set()
    {
        var vit = SmallImages with { StudentFamily = ModelFamilies.Get("vit") };
        var recipe = TrainingRecipe.Fit(new RecipeSettings(), vit, seed: 1);
        Assert.Null(recipe.Student.Augmentation.RandAugment);
        Assert.Null(recipe.TeacherAdaptation!.Augmentation.RandAugment);
        var choice = recipe.Choices.Single(c => c.Name == nameof(RecipeSettings.RandAugment));
        Assert.Equal(("off", false), (choice.Value, choice.WasSet));
        Assert.StartsWith("off for vit students", choice.Reason);
        Assert.StartsWith("off for these students", TrainingRecipe.Fit(new RecipeSettings(), SmallImages with { StudentFamily = null }, seed: 1)
            .Choices.Single(c => c.Name == nameof(RecipeSettings.RandAugment)).Reason);

        var set = RandAugmentOptions.Parse(TrainingRecipe.FittedRandAugment);
        Assert.Same(set, TrainingRecipe.Fit(new RecipeSettings { RandAugment = set }, vit, seed: 1).Student.Augmentation.RandAugment);
    }

    [Fact]
    public void Short_runs_get_no_fitted_RandAugment_but_keep_one_that_is_set()
    {
        var shortRun = TrainingRecipe.Fit(new RecipeSettings { Epochs = TrainingRecipe.RandAugmentMinEpochs - 1 }, SmallImages, seed: 1);
        Assert.Null(shortRun.Student.Augmentation.RandAugment);
        Assert.Null(shortRun.TeacherAdaptation!.Augmentation.RandAugment);
        var choice = shortRun.Choices.Single(c => c.Name == nameof(RecipeSettings.RandAugment));
        Assert.Equal(("off", false), (choice.Value, choice.WasSet));
        Assert.StartsWith($"off for fewer than {TrainingRecipe.RandAugmentMinEpochs} epochs", choice.Reason);

        var longEnough = TrainingRecipe.Fit(new RecipeSettings { Epochs = TrainingRecipe.RandAugmentMinEpochs }, SmallImages, seed: 1);
        Assert.NotNull(longEnough.Student.Augmentation.RandAugment);

        var set = RandAugmentOptions.Parse("rand-m5");
        var kept = TrainingRecipe.Fit(new RecipeSettings { Epochs = 1, RandAugment = set }, SmallImages, seed: 1);
        Assert.Same(set, kept.Student.Augmentation.RandAugment);
        var explicitAugmentation = new AugmentationOptions { RandAugment = set };
        Assert.Same(set, TrainingRecipe.Fit(new RecipeSettings { Epochs = 1, Augmentation = explicitAugmentation }, SmallImages, seed: 1).Student.Augmentation.RandAugment);
    }

    [Fact]
    public void Off_removes_the_fitted_RandAugment_and_is_marked_set()
    {
        var recipe = TrainingRecipe.Fit(new RecipeSettings { RandAugment = RandAugmentOptions.Off }, SmallImages, seed: 1);
        Assert.Null(recipe.Student.Augmentation.RandAugment);
        Assert.Null(recipe.TeacherAdaptation!.Augmentation.RandAugment);
        var choice = recipe.Choices.Single(c => c.Name == nameof(RecipeSettings.RandAugment));
        Assert.Equal(("off", true), (choice.Value, choice.WasSet));
        // The rest of the fitted augmentation stays.
        Assert.Equal(TrainingRecipe.Augmentation(SmallImages.ImageSize, SmallImages.TrainingImages, SmallImages.Classes, SmallImages.StudentFamily).RandomCropPadding,
            recipe.Student.Augmentation.RandomCropPadding);

        Assert.True(RandAugmentOptions.Off.IsOff);
        Assert.False(RandAugmentOptions.Default.IsOff);
        Assert.Equal("off", RandAugmentOptions.Off.ToString());
        // In an AugmentationOptions it is the same as null.
        var augmentation = new AugmentationOptions { RandAugment = RandAugmentOptions.Off };
        augmentation.Validate();
        Assert.DoesNotContain("randaug", augmentation.ToString());
    }

    [Fact]
    public void An_explicit_augmentation_gets_it_on_a_copy_and_setting_it_twice_is_refused()
    {
        var none = AugmentationOptions.None;
        var recipe = TrainingRecipe.Fit(new RecipeSettings { Augmentation = none, RandAugment = RandAugmentOptions.Parse("rand-m5") }, SmallImages, seed: 1);
        Assert.NotNull(recipe.Student.Augmentation.RandAugment);
        Assert.Null(none.RandAugment);
        Assert.False(recipe.Student.Augmentation.HorizontalFlip);

        var both = new AugmentationOptions { RandAugment = RandAugmentOptions.Parse("rand-m5") };
        var error = Assert.Throws<ArgumentException>(() =>
            TrainingRecipe.Fit(new RecipeSettings { Augmentation = both, RandAugment = RandAugmentOptions.Parse("rand-m9") }, SmallImages, seed: 1));
        Assert.Contains("RandAugment is set twice", error.Message);
    }
}

using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.Training.Recipe;

/// <summary>
/// <see cref="TrainingRecipe.Augmentation"/>: a translation crop for small images, a random resized crop above; mixing
/// off below <see cref="TrainingRecipe.MixingMinImagesPerClass"/> images per class, growing to the paper's strength at
/// <see cref="TrainingRecipe.FullMixingImagesPerClass"/>; the paper's RandAugment below
/// <see cref="TrainingRecipe.RandAugmentMaxImagesPerClass"/> images per class for families that take it
/// (<see cref="ModelFamily.SmallDataRandAugment"/>).
/// </summary>
public class AugmentationRuleTests
{
    const int Classes = 10;
    static readonly ModelFamily ResNet = ModelFamilies.Get("resnet");

    [Theory]
    [InlineData(56, 7)]
    [InlineData(TrainingRecipe.SmallImageSide, TrainingRecipe.SmallImageSide / 8)]
    [InlineData(4, 1)]
    public void Small_images_get_a_reflect_pad_translation_crop_of_an_eighth_of_the_side(int size, int padding)
    {
        var a = TrainingRecipe.Augmentation(size, 100, Classes, ResNet);
        Assert.False(a.RandomResizedCrop);
        Assert.Equal(padding, a.RandomCropPadding);
        Assert.True(a.HorizontalFlip);
        a.Validate();
    }

    [Fact]
    public void Larger_images_get_the_random_resized_crop()
    {
        var a = TrainingRecipe.Augmentation(TrainingRecipe.SmallImageSide + 1, 100, Classes, ResNet);
        Assert.True(a.RandomResizedCrop);
        Assert.Equal(0, a.RandomCropPadding);
        Assert.Equal(AugmentationOptions.Default.CropScaleMin, a.CropScaleMin);
        a.Validate();
    }

    [Fact]
    public void Mixing_and_erasing_are_off_below_the_threshold_of_images_per_class()
    {
        var a = TrainingRecipe.Augmentation(32, TrainingRecipe.MixingMinImagesPerClass * Classes - 1, Classes, ResNet);
        Assert.Equal(0, a.MixupAlpha);
        Assert.Equal(0, a.CutmixAlpha);
        Assert.Equal(0, a.MixProbability);
        Assert.Equal(0, a.RandomErasing);
        Assert.False(a.MixesBatches);
    }

    [Fact]
    public void At_the_threshold_mixing_starts_weaker_than_the_papers()
    {
        var paper = AugmentationOptions.Default;
        var a = TrainingRecipe.Augmentation(32, TrainingRecipe.MixingMinImagesPerClass * Classes, Classes, ResNet);
        Assert.True(a.MixesBatches);
        Assert.InRange(a.MixupAlpha, 0.01, paper.MixupAlpha - 0.01);
        Assert.InRange(a.CutmixAlpha, 0.01, paper.CutmixAlpha - 0.01);
        Assert.InRange(a.MixProbability, 0.01, paper.MixProbability - 0.01);
        Assert.Equal(paper.RandomErasing, a.RandomErasing);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(10.0)]
    public void From_the_full_threshold_on_mixing_has_the_papers_strength(double times)
    {
        var paper = AugmentationOptions.Default;
        var a = TrainingRecipe.Augmentation(224, (int)(TrainingRecipe.FullMixingImagesPerClass * Classes * times), Classes, ResNet);
        Assert.Equal(paper.MixupAlpha, a.MixupAlpha, 12);
        Assert.Equal(paper.CutmixAlpha, a.CutmixAlpha, 12);
        Assert.Equal(paper.MixProbability, a.MixProbability, 12);
        Assert.Equal(paper.SwitchProbability, a.SwitchProbability, 12);
        Assert.Equal(paper.RandomErasing, a.RandomErasing, 12);
    }

    [Fact]
    public void Mixing_grows_with_the_images_per_class()
    {
        double mixup = 0, cutmix = 0, probability = 0;
        for (int perClass = TrainingRecipe.MixingMinImagesPerClass; perClass <= TrainingRecipe.FullMixingImagesPerClass; perClass += 100)
        {
            var a = TrainingRecipe.Augmentation(32, perClass * Classes, Classes, ResNet);
            Assert.True(a.MixupAlpha >= mixup && a.CutmixAlpha >= cutmix && a.MixProbability >= probability,
                $"{perClass} per class: mixup {a.MixupAlpha}, cutmix {a.CutmixAlpha}, p {a.MixProbability} after {mixup}, {cutmix}, {probability}");
            (mixup, cutmix, probability) = (a.MixupAlpha, a.CutmixAlpha, a.MixProbability);
        }
    }

    [Theory]
    [InlineData(16)]
    [InlineData(64)]
    [InlineData(224)]
    public void The_papers_RandAugment_is_on_below_the_threshold_of_images_per_class_at_every_size(int size)
    {
        foreach (int images in new[] { 10, 900, TrainingRecipe.RandAugmentMaxImagesPerClass * Classes - 1 })
        {
            var on = TrainingRecipe.Augmentation(size, images, Classes, ResNet).RandAugment;
            Assert.NotNull(on);
            Assert.Equal(RandAugmentOptions.Parse("rand-m9-mstd0.5-inc1").ToString(), on.ToString());
            Assert.Equal((2, 9.0, 0.5, 0.5, true), (on.NumLayers, on.Magnitude, on.MagnitudeStd, on.Probability, on.Increasing));
        }
        foreach (int images in new[] { TrainingRecipe.RandAugmentMaxImagesPerClass * Classes, 45_000, 1_000_000 })
            Assert.Null(TrainingRecipe.Augmentation(size, images, Classes, ResNet).RandAugment);
    }

    [Theory]
    [InlineData("vit")]
    [InlineData("swin")]
    [InlineData("convnext")]
    [InlineData("efficientnet")]
    public void Families_not_measured_to_gain_from_it_get_no_RandAugment_and_the_rest_unchanged(string family)
    {
        var student = ModelFamilies.Get(family);
        Assert.False(student.SmallDataRandAugment);
        var a = TrainingRecipe.Augmentation(32, 900, Classes, student);
        Assert.Null(a.RandAugment);
        Assert.Null(TrainingRecipe.Augmentation(32, 900, Classes, student: null).RandAugment);
        var withIt = TrainingRecipe.Augmentation(32, 900, Classes, ResNet);
        Assert.NotNull(withIt.RandAugment);
        withIt.RandAugment = null;
        Assert.Equal(withIt.ToString(), a.ToString());
    }
}

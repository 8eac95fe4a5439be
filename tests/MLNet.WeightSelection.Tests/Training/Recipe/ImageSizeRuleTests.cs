using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.Training.Recipe;

/// <summary><see cref="TrainingRecipe.ImageSize"/>: small images doubled, rounded up to the multiple, capped, unknown side.</summary>
public class ImageSizeRuleTests
{
    const int Small = TrainingRecipe.SmallImageSide;

    [Fact]
    public void A_set_size_wins_even_when_it_is_no_multiple_and_above_the_architecture()
    {
        Assert.Equal(37, TrainingRecipe.ImageSize(37, 28, 224, 16));
        Assert.Equal(300, TrainingRecipe.ImageSize(300, null, 224, 16));
    }

    [Fact]
    public void Small_images_are_doubled_up_to_and_including_the_small_side()
    {
        Assert.Equal(56, TrainingRecipe.ImageSize(null, 28, 224, 8));
        Assert.Equal(2 * Small, TrainingRecipe.ImageSize(null, Small, 224, 8));
    }

    [Fact]
    public void Images_just_above_the_small_side_keep_their_side_rounded_up_to_the_multiple()
    {
        int side = Small + 1;
        int expected = (side + 7) / 8 * 8;
        Assert.Equal(expected, TrainingRecipe.ImageSize(null, side, 224, 8));
        Assert.True(expected < 2 * side, "just above the small side the images are not doubled");
        Assert.Equal(160, TrainingRecipe.ImageSize(null, 160, 224, 8));
    }

    [Fact]
    public void The_size_is_rounded_up_to_the_architectures_multiple()
    {
        // 28 px doubles to 56, which a patch-16 ViT takes as 64; a patch-4 ViT as 56.
        Assert.Equal(64, TrainingRecipe.ImageSize(null, 28, 224, 16));
        Assert.Equal(56, TrainingRecipe.ImageSize(null, 28, 224, 4));
        Assert.Equal(112, TrainingRecipe.ImageSize(null, 100, 224, 16));
    }

    [Fact]
    public void Tiny_images_get_at_least_the_minimum_side()
    {
        // 8 px digits would double to 16, too small for an ImageNet network: MinImageSide (32) applies first.
        Assert.Equal(TrainingRecipe.MinImageSide, TrainingRecipe.ImageSize(null, 8, 224, 8));
        Assert.Equal(TrainingRecipe.MinImageSide, TrainingRecipe.ImageSize(null, 1, 224, 16));
        Assert.Equal(48, TrainingRecipe.ImageSize(null, 1, 224, 48));
        Assert.Equal(2 * (TrainingRecipe.MinImageSide / 2 + 1), TrainingRecipe.ImageSize(null, TrainingRecipe.MinImageSide / 2 + 1, 224, 2));
    }

    [Fact]
    public void The_size_is_capped_at_the_architectures_size()
    {
        Assert.Equal(224, TrainingRecipe.ImageSize(null, 500, 224, 16));
        Assert.Equal(96, TrainingRecipe.ImageSize(null, Small, 96, 8));
        Assert.Equal(16, TrainingRecipe.ImageSize(null, 14, 16, 8));
    }

    [Fact]
    public void An_unknown_side_takes_the_architectures_size()
    {
        Assert.Equal(224, TrainingRecipe.ImageSize(null, null, 224, 16));
        Assert.Equal(32, TrainingRecipe.ImageSize(null, 0, 32, 8));
    }

    [Fact]
    public void Within_each_branch_the_fitted_size_never_shrinks_as_the_images_grow()
    {
        int previous = 0;
        for (int side = 1; side <= 400; side++)
        {
            int size = TrainingRecipe.ImageSize(null, side, 224, 16);
            Assert.True(size % 16 == 0 || size == 224, $"side {side}: {size} is no multiple of 16");
            Assert.InRange(size, TrainingRecipe.MinImageSide, 224);
            if (side != Small + 1) Assert.True(size >= previous, $"side {side}: {size} after {previous}");
            previous = size;
        }
    }
}

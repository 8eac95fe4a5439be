using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Training;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Training;

/// <summary>
/// <see cref="AugmentationOptions.RandomCropPadding"/>: reflect padding (torch's "reflect": the edge pixel is not
/// repeated) and a full-size window, checked on images whose pixel (y, x) holds 10·y + x.
/// </summary>
public class PaddedCropTests
{
    /// <summary>[1, 1, 4, 5] holding 10·y + x.</summary>
    static Tensor Grid() => tensor(Enumerable.Range(0, 20).Select(i => (float)(10 * (i / 5) + i % 5)).ToArray(), new long[] { 1, 1, 4, 5 });

    static float[][] Rows(Tensor image) => Enumerable.Range(0, (int)image.shape[^2])
        .Select(y => image[TensorIndex.Ellipsis, y, TensorIndex.Colon].data<float>().ToArray()).ToArray();

    [Fact]
    public void Offset_zero_shows_the_reflection_above_and_left()
    {
        using var crop = BatchAugmenter.PaddedCrop(Grid(), 2, new[] { (0, 0) });
        // Rows -2, -1, 0, 1 reflect to 2, 1, 0, 1; columns -2..2 to 2, 1, 0, 1, 2.
        Assert.Equal(new[]
        {
            new float[] { 22, 21, 20, 21, 22 },
            new float[] { 12, 11, 10, 11, 12 },
            new float[] { 2, 1, 0, 1, 2 },
            new float[] { 12, 11, 10, 11, 12 },
        }, Rows(crop));
    }

    [Fact]
    public void Offset_p_is_the_image_itself()
    {
        using var x = Grid();
        using var crop = BatchAugmenter.PaddedCrop(x, 2, new[] { (2, 2) });
        Assert.Equal(Rows(x), Rows(crop));
    }

    [Fact]
    public void Offset_2p_shows_the_reflection_below_and_right()
    {
        using var crop = BatchAugmenter.PaddedCrop(Grid(), 2, new[] { (4, 4) });
        // Rows 2..5 reflect to 2, 3, 2, 1; columns 2..6 to 2, 3, 4, 3, 2.
        Assert.Equal(new[]
        {
            new float[] { 22, 23, 24, 23, 22 },
            new float[] { 32, 33, 34, 33, 32 },
            new float[] { 22, 23, 24, 23, 22 },
            new float[] { 12, 13, 14, 13, 12 },
        }, Rows(crop));
    }

    [Fact]
    public void Each_image_and_every_channel_take_that_images_own_offset()
    {
        // Two images of three channels: channel c of image n adds 100·c + 50·n to the grid.
        using var grid = Grid();
        var images = new List<Tensor>();
        for (int n = 0; n < 2; n++)
            images.Add(cat(Enumerable.Range(0, 3).Select(c => grid + (100 * c + 50 * n)).ToArray(), 1));
        using var batch = cat(images.ToArray(), 0);
        using var crop = BatchAugmenter.PaddedCrop(batch, 1, new[] { (0, 2), (2, 0) });

        Assert.Equal(new long[] { 2, 3, 4, 5 }, crop.shape);
        Assert.Equal(ScalarType.Float32, crop.dtype);
        for (int n = 0; n < 2; n++)
            for (int c = 0; c < 3; c++)
            {
                var (top, left) = n == 0 ? (0, 2) : (2, 0);
                var rows = Rows(crop[n, c]);
                for (int y = 0; y < 4; y++)
                    for (int x = 0; x < 5; x++)
                        Assert.Equal(10 * Reflect(y + top - 1, 4) + Reflect(x + left - 1, 5) + 100 * c + 50 * n, rows[y][x]);
            }
    }

    [Fact]
    public void Padding_up_to_one_less_than_the_side_works_and_the_side_itself_is_refused_with_the_sizes()
    {
        using var x = Grid();
        using var widest = BatchAugmenter.PaddedCrop(x, 3, new[] { (6, 0) });
        Assert.Equal(new long[] { 1, 1, 4, 5 }, widest.shape);
        Assert.Equal(new float[] { 33, 32, 31, 30, 31 }, Rows(widest)[0]); // row 3 stays 3, columns −3..1 reflect to 3, 2, 1, 0, 1

        var e = Assert.Throws<ArgumentException>(() => BatchAugmenter.PaddedCrop(x, 4, new[] { (0, 0) }));
        Assert.Contains("RandomCropPadding 4", e.Message);
        Assert.Contains("4×5 px", e.Message);
    }

    [Fact]
    public void Apply_crops_every_image_at_an_offset_within_twice_the_padding_and_flips_about_half()
    {
        const int size = 6, count = 16;
        var one = Enumerable.Range(0, size * size).Select(i => (byte)(10 * (i / size) + i % size)).ToArray();
        using var images = tensor(Enumerable.Repeat(one, 3 * count).SelectMany(v => v).ToArray(), new long[] { count, 3, size, size });
        using var labels = zeros(count, ScalarType.Int64);
        var options = AugmentationOptions.None;
        options.RandomCropPadding = 1;
        options.HorizontalFlip = true;
        using var generator = new Generator(5);
        using var batch = new BatchAugmenter(options, 2, 0, InputConvention.ImageNet).Apply(images, labels, new RandomSource(generator));

        Assert.Equal(new long[] { count, 3, size, size }, batch.Pixels.shape);
        Assert.Null(batch.SoftTargets);
        var found = new List<(int Top, int Left, bool Flip)>();
        for (int n = 0; n < count; n++)
        {
            var image = batch.Pixels[n].data<float>().ToArray();
            // With a side of 6 and padding 1 no two of the 18 candidates are equal, so each image matches exactly one.
            var matches = (from top in Enumerable.Range(0, 3)
                           from left in Enumerable.Range(0, 3)
                           from flip in new[] { false, true }
                           where Candidate(image, top, left, flip)
                           select (top, left, flip)).ToList();
            Assert.Single(matches);
            found.Add(matches[0]);
        }
        Assert.Contains(found, f => f.Flip);
        Assert.Contains(found, f => !f.Flip);
        Assert.True(found.Select(f => (f.Top, f.Left)).Distinct().Count() >= 4, string.Join(" ", found));

        // Without flips every image is an unflipped crop.
        options.HorizontalFlip = false;
        using var generator2 = new Generator(5);
        using var plain = new BatchAugmenter(options, 2, 0, InputConvention.ImageNet).Apply(images, labels, new RandomSource(generator2));
        for (int n = 0; n < count; n++)
            Assert.Contains(from top in Enumerable.Range(0, 3) from left in Enumerable.Range(0, 3) select Candidate(plain.Pixels[n].data<float>().ToArray(), top, left, false), m => m);

        bool Candidate(float[] image, int top, int left, bool flip)
        {
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                    {
                        int sx = flip ? size - 1 - x : x;
                        float expected = 10 * Reflect(y + top - 1, size) + Reflect(sx + left - 1, size);
                        if (image[(c * size + y) * size + x] != expected) return false;
                    }
            return true;
        }
    }

    [Fact]
    public void Both_crops_on_or_a_negative_padding_are_refused_by_Validate()
    {
        var both = new AugmentationOptions { RandomCropPadding = 3 };
        var e = Assert.Throws<ArgumentException>(both.Validate);
        Assert.Contains("RandomCropPadding (3) and RandomResizedCrop are both on", e.Message);

        var negative = AugmentationOptions.None;
        negative.RandomCropPadding = -1;
        Assert.Contains("RandomCropPadding must be >= 0; got -1", Assert.Throws<ArgumentException>(negative.Validate).Message);
        Assert.StartsWith("padcrop=3 flip=", new AugmentationOptions { RandomResizedCrop = false, RandomCropPadding = 3 }.ToString());
        Assert.StartsWith("crop=off flip=", new AugmentationOptions { RandomResizedCrop = false }.ToString());
        // The random resized crop keeps its long form, so checkpoints written before the translation crop still resume.
        Assert.StartsWith("crop=True[0.35,1]x[0.75,1.3333333333333333] flip=True", AugmentationOptions.Default.ToString());
        Assert.DoesNotContain("padcrop", AugmentationOptions.Default.ToString());
    }

    [Fact]
    public void A_padding_as_large_as_the_images_is_refused_before_training_with_both_sizes()
    {
        using var train = TrainingData.Separable(16, size: 8, seed: 1);
        using var model = TinyClassifier.Create(4, seed: 2);
        var before = TrainingData.Snapshot(model);
        var options = TrainingData.FastOptions(epochs: 1);
        options.Augmentation.RandomCropPadding = 8;
        var epochs = new List<EpochMetrics>();

        var e = Assert.Throws<ArgumentException>(() => new ImageClassifierTrainer(options).Train(model, train, null, onEpoch: epochs.Add));

        Assert.Contains("RandomCropPadding is 8 px, but the images are 8 px", e.Message);
        Assert.Empty(epochs);
        Assert.Equal(0, TrainingData.MaxDifference(before, TrainingData.Snapshot(model)));
    }

    /// <summary>torch's reflect index: −1 → 1, n → n − 2 (the edge is not repeated).</summary>
    static int Reflect(int i, int n) => i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
}

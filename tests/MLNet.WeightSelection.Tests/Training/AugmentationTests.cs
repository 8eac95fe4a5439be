using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Training;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Training;

public class AugmentationTests
{
    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    static AugmentedBatch Run(AugmentationOptions options, Tensor images, Tensor labels, ulong seed, int classes = 4, double smoothing = 0.1)
    {
        using var generator = new Generator(seed);
        var augmenter = new BatchAugmenter(options, classes, smoothing, InputConvention.ImageNet);
        return augmenter.Apply(images, labels, new RandomSource(generator));
    }

    /// <summary>Each image is one constant value per image (10, 20, ...), so mixing is visible pixel by pixel.</summary>
    static Tensor ConstantImages(int count, int size)
    {
        var values = new byte[count * 3 * size * size];
        for (int n = 0; n < count; n++)
            Array.Fill(values, (byte)(10 * (n + 1)), n * 3 * size * size, 3 * size * size);
        return tensor(values, new long[] { count, 3, size, size });
    }

    [Fact]
    public void MixupMixesImagesAndTargetsWithTheSameLambda()
    {
        var options = AugmentationOptions.None;
        options.MixupAlpha = 1.0;
        options.MixProbability = 1.0;
        using var images = ConstantImages(4, 8);
        using var labels = tensor(new long[] { 0, 1, 2, 3 });
        using var batch = Run(options, images, labels, seed: 3);

        Assert.Equal(MixKind.Mixup, batch.Mix);
        Assert.InRange(batch.Lambda, 0, 1);
        double lam = batch.Lambda;
        using var expected = images.to_type(ScalarType.Float32).mul(lam).add(images.flip(0).to_type(ScalarType.Float32), 1 - lam);
        Assert.True(batch.Pixels.allclose(expected, rtol: 0, atol: 1e-4));

        var targets = batch.SoftTargets!.data<float>().ToArray();
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(1.0, targets.Skip(4 * i).Take(4).Sum(), 5);
            int own = i, partner = 3 - i;
            // ε/K everywhere, plus (1 − ε)·λ on the own label and (1 − ε)·(1 − λ) on the partner's.
            Assert.Equal(0.025 + 0.9 * lam, targets[4 * i + own], 5);
            Assert.Equal(0.025 + 0.9 * (1 - lam), targets[4 * i + partner], 5);
        }
    }

    [Fact]
    public void CutmixPastesABoxAndLambdaIsTheKeptShare()
    {
        var options = AugmentationOptions.None;
        options.CutmixAlpha = 1.0;
        options.MixProbability = 1.0;
        using var images = ConstantImages(3, 16);
        using var labels = tensor(new long[] { 2, 0, 1 });
        for (ulong seed = 1; seed <= 5; seed++)
        {
            using var batch = Run(options, images, labels, seed, classes: 3, smoothing: 0);
            Assert.Equal(MixKind.Cutmix, batch.Mix);
            var pixels = batch.Pixels.data<float>().ToArray();
            int per = 3 * 16 * 16;
            // Image 0 keeps value 10 outside the box and takes image 2's value 30 inside it.
            int kept = pixels.Take(per).Count(v => v == 10f);
            int pasted = pixels.Take(per).Count(v => v == 30f);
            Assert.Equal(per, kept + pasted);
            Assert.Equal(batch.Lambda, (double)kept / per, 6);

            var targets = batch.SoftTargets!.data<float>().ToArray();
            Assert.Equal(batch.Lambda, targets[2], 5);          // own label 2
            Assert.Equal(1 - batch.Lambda, targets[1], 5);      // partner (image 2) has label 1
            for (int i = 0; i < 3; i++) Assert.Equal(1.0, targets.Skip(3 * i).Take(3).Sum(), 5);
        }
    }

    [Fact]
    public void AugmentationIsDeterministicForASeed()
    {
        using var data = TrainingData.Separable(8, size: 16, seed: 2);
        var options = AugmentationOptions.Default;
        options.RandomErasing = 0.5;
        using var a = Run(options, data.Images, data.Labels, seed: 11);
        using var b = Run(options, data.Images, data.Labels, seed: 11);
        using var c = Run(options, data.Images, data.Labels, seed: 12);

        Assert.True(Same(a.Pixels, b.Pixels));
        Assert.True(Same(a.SoftTargets!, b.SoftTargets!));
        Assert.Equal(a.Lambda, b.Lambda);
        Assert.False(Same(a.Pixels, c.Pixels));
    }

    [Fact]
    public void ResizedCropSamplesTheBoxAndFlipMirrors()
    {
        // A horizontal ramp f(row, col) = col: bilinear sampling of a linear ramp is exact.
        var ramp = Enumerable.Range(0, 8 * 8).Select(i => (float)(i % 8)).ToArray();
        using var x = tensor(ramp, new long[] { 1, 1, 8, 8 });

        using var full = BatchAugmenter.ResizedCrop(x, new[] { new CropBox(0, 0, 8, 8) }, new[] { false });
        Assert.True(full.allclose(x, rtol: 0, atol: 1e-4));

        using var mirrored = BatchAugmenter.ResizedCrop(x, new[] { new CropBox(0, 0, 8, 8) }, new[] { true });
        using var flipped = x.flip(3);
        Assert.True(mirrored.allclose(flipped, rtol: 0, atol: 1e-4));

        // Columns 2..5 stretched to 8: output column j samples input column 2 + (j + 0.5)·4/8 − 0.5.
        using var crop = BatchAugmenter.ResizedCrop(x, new[] { new CropBox(1, 2, 4, 4) }, new[] { false });
        var row = crop[0, 0, 3].data<float>().ToArray();
        for (int j = 0; j < 8; j++) Assert.Equal(1.75 + 0.5 * j, row[j], 4);
    }

    [Fact]
    public void FlipOnlyMirrorsExactlyTheChosenImages()
    {
        using var data = TrainingData.Separable(16, size: 8, seed: 3);
        var options = AugmentationOptions.None;
        options.HorizontalFlip = true;
        using var batch = Run(options, data.Images, data.Labels, seed: 4);
        using var original = data.Images.to_type(ScalarType.Float32);
        using var mirrored = original.flip(3);
        int flipped = 0, kept = 0;
        for (int i = 0; i < 16; i++)
        {
            if (Same(batch.Pixels[i], mirrored[i])) flipped++;
            else if (Same(batch.Pixels[i], original[i])) kept++;
        }
        Assert.Equal(16, flipped + kept);
        Assert.InRange(flipped, 1, 15);
        Assert.Null(batch.SoftTargets);
    }

    [Fact]
    public void RandomResizedCropBoxesStayInsideAndRespectTheScaleRange()
    {
        var options = AugmentationOptions.Default;
        var augmenter = new BatchAugmenter(options, 4, 0, InputConvention.ImageNet);
        using var generator = new Generator(9);
        var random = new RandomSource(generator);
        for (int i = 0; i < 200; i++)
        {
            var box = augmenter.SampleCrop(random, 32, 32);
            Assert.InRange(box.Top, 0, 32 - box.Height);
            Assert.InRange(box.Left, 0, 32 - box.Width);
            double share = (double)box.Height * box.Width / (32 * 32);
            Assert.InRange(share, 0.30, 1.0);
        }
    }

    [Fact]
    public void RandomErasingReplacesOneRectanglePerImage()
    {
        using var data = TrainingData.Separable(6, size: 16, seed: 4);
        var options = AugmentationOptions.None;
        options.RandomErasing = 1.0;
        using var batch = Run(options, data.Images, data.Labels, seed: 5);
        using var original = data.Images.to_type(ScalarType.Float32);
        for (int i = 0; i < 6; i++)
        {
            using var changed = batch.Pixels[i].ne(original[i]).any(0); // [H, W]
            var mask = changed.data<bool>().ToArray();
            var rows = Enumerable.Range(0, 16).Where(r => Enumerable.Range(0, 16).Any(c => mask[r * 16 + c])).ToArray();
            var cols = Enumerable.Range(0, 16).Where(c => Enumerable.Range(0, 16).Any(r => mask[r * 16 + c])).ToArray();
            Assert.NotEmpty(rows);
            int area = (rows[^1] - rows[0] + 1) * (cols[^1] - cols[0] + 1);
            Assert.Equal(area, mask.Count(m => m));           // the changed pixels form one full rectangle
            Assert.InRange(area / 256.0, 0.01, 0.45);
        }
    }

    [Fact]
    public void DefaultAugmentationIsUnchangedByRandAugmentsArrival()
    {
        // Figures measured with this test's body on the commit before RandAugment existed (7192875): the default path
        // must keep every draw and pixel, so runs made before stay reproducible.
        using var data = TrainingData.Separable(16, size: 16, seed: 1);
        using var batch = Run(AugmentationOptions.Default, data.Images, data.Labels, seed: 21);
        using var pixels = batch.Pixels.to_type(ScalarType.Float64);
        using var weights = arange(pixels.numel(), ScalarType.Float64).remainder(97).view(pixels.shape);
        double sum = pixels.sum().item<double>();
        double weighted = pixels.mul(weights).sum().item<double>();
        Assert.Equal(MixKind.Mixup, batch.Mix);
        Assert.Equal(0.9099581977249109, batch.Lambda, 12);
        Assert.Equal(1211590.8446961641, sum, 3);
        Assert.Equal(57868496.920898914, weighted, 2);
    }
}

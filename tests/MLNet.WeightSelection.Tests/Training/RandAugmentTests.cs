using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Training;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Training;

public class RandAugmentTests
{
    /// <summary>A [1, 1, 1, n] image holding <paramref name="values"/>.</summary>
    static Tensor Row(params float[] values) => tensor(values, new long[] { 1, 1, 1, values.Length });

    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    static float[] Values(Tensor t) => t.contiguous().data<float>().ToArray();

    /// <summary>A [1, 1, size, size] image whose pixel (r, c) is r · size + c.</summary>
    static Tensor Ramp(int size) => arange(size * size, ScalarType.Float32).view(1, 1, size, size);

    [Fact]
    public void InvertSolarizeAndPosterizeMapLevelsLikePil()
    {
        using var x = Row(0, 100, 127, 128, 255);
        using var inverted = RandAugmentOps.Invert(x);
        Assert.Equal(new float[] { 255, 155, 128, 127, 0 }, Values(inverted));

        using var solarized = RandAugmentOps.Solarize(x, new float[] { 128 });
        Assert.Equal(new float[] { 0, 100, 127, 127, 0 }, Values(solarized));

        using var added = RandAugmentOps.SolarizeAdd(x, new float[] { 99 });
        Assert.Equal(new float[] { 99, 199, 226, 128, 255 }, Values(added));
        using var capped = RandAugmentOps.SolarizeAdd(x, new float[] { 200 });
        Assert.Equal(new float[] { 200, 255, 255, 128, 255 }, Values(capped));

        using var oneBit = RandAugmentOps.Posterize(x, new float[] { 1 });
        Assert.Equal(new float[] { 0, 0, 0, 128, 128 }, Values(oneBit));
        using var threeBits = RandAugmentOps.Posterize(x, new float[] { 3 });
        Assert.Equal(new float[] { 0, 96, 96, 128, 224 }, Values(threeBits));
        using var noBits = RandAugmentOps.Posterize(x, new float[] { 0 });
        Assert.All(Values(noBits), v => Assert.Equal(0, v));
    }

    [Fact]
    public void EqualizeSpreadsATwoLevelImageAndLeavesASparseOneAlone()
    {
        // 32 × 32 with 512 pixels at 10 and 512 at 200: step = 512 / 255 = 2, so 10 → 1 / 2 = 0 and 200 → (1 + 512) / 2, capped at 255.
        using var large = cat(new[] { full(1, 1, 16, 32, 10f), full(1, 1, 16, 32, 200f) }, 2);
        using var equalized = RandAugmentOps.Equalize(large);
        Assert.Equal(new float[] { 0, 255 }, Values(equalized).Distinct().OrderBy(v => v).ToArray());
        Assert.Equal(512, Values(equalized).Count(v => v == 0));

        // 8 × 8: fewer than 255 pixels below the top level gives step 0, and PIL leaves the image as it is.
        using var small = cat(new[] { full(1, 1, 4, 8, 10f), full(1, 1, 4, 8, 200f) }, 2);
        using var unchanged = RandAugmentOps.Equalize(small);
        Assert.Equal(Values(small), Values(unchanged));
    }

    [Fact]
    public void AutoContrastStretchesEachChannelAndKeepsFlatOnes()
    {
        using var stretched = RandAugmentOps.AutoContrast(Row(50, 100, 150));
        Assert.Equal(new float[] { 0, 127, 255 }, Values(stretched));
        using var flat = RandAugmentOps.AutoContrast(Row(70, 70, 70));
        Assert.Equal(new float[] { 70, 70, 70 }, Values(flat));
    }

    [Fact]
    public void EnhancementsBlendWithTheirDegenerateImages()
    {
        using var bright = RandAugmentOps.Brightness(Row(0, 100, 200), new float[] { 1.5f });
        Assert.Equal(new float[] { 0, 150, 255 }, Values(bright));

        // Mean luminance of 0 and 200 is 100: factor 0 flattens to it, factor 2 doubles the distance from it.
        using var flat = RandAugmentOps.Contrast(Row(0, 200), new float[] { 0 });
        Assert.Equal(new float[] { 100, 100 }, Values(flat));
        using var strong = RandAugmentOps.Contrast(Row(50, 150), new float[] { 2 });
        Assert.Equal(new float[] { 0, 200 }, Values(strong));

        // Colour factor 0 turns RGB into its luminance; a greyscale image has nothing to desaturate.
        using var rgb = tensor(new float[] { 255, 0, 0 }, new long[] { 1, 3, 1, 1 });
        using var grey = RandAugmentOps.Color(rgb, new float[] { 0 });
        Assert.Equal(new float[] { 76, 76, 76 }, Values(grey));
        using var single = RandAugmentOps.Color(Row(10, 90), new float[] { 0 });
        Assert.Equal(new float[] { 10, 90 }, Values(single));
    }

    [Fact]
    public void SharpnessZeroIsPilsSmoothFilterWithTheBorderKept()
    {
        using var spike = zeros(1, 1, 5, 5);
        spike[0, 0, 2, 2] = tensor(130f);
        using var smooth = RandAugmentOps.Sharpness(spike, new float[] { 0 });
        var v = Values(smooth);
        Assert.Equal(50, v[2 * 5 + 2]);                    // 130 · 5 / 13
        Assert.Equal(10, v[1 * 5 + 1]);                    // 130 / 13
        Assert.Equal(0, v[0]);                             // border kept
        using var same = RandAugmentOps.Sharpness(spike, new float[] { 1 });
        Assert.Equal(Values(spike), Values(same));
    }

    [Fact]
    public void TranslateMovesByWholePixelsAndFillsTheRest()
    {
        using var x = Ramp(8);
        var shift = RandAugmentOps.TranslateXCoefficients(0.25, 8); // 2 pixels
        using var moved = RandAugmentOps.Affine(x, new[] { shift }, new float[] { 128 });
        var v = Values(moved);
        for (int r = 0; r < 8; r++)
            for (int c = 0; c < 8; c++)
                Assert.Equal(c < 6 ? r * 8 + c + 2 : 128, v[r * 8 + c]);

        var down = RandAugmentOps.TranslateYCoefficients(-0.25, 8); // content moves down 2 rows
        using var movedDown = RandAugmentOps.Affine(x, new[] { down }, new float[] { 7 });
        var d = Values(movedDown);
        for (int r = 0; r < 8; r++)
            for (int c = 0; c < 8; c++)
                Assert.Equal(r < 2 ? 7 : (r - 2) * 8 + c, d[r * 8 + c]);
    }

    [Fact]
    public void RotateNinetyDegreesTurnsTheImageCounterClockwise()
    {
        using var x = Ramp(4);
        using var turned = RandAugmentOps.Affine(x, new[] { RandAugmentOps.RotateCoefficients(90, 4, 4) }, new float[] { 0 });
        var input = Values(x);
        var output = Values(turned);
        // Counter-clockwise on screen: the right column becomes the top row.
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++)
                Assert.Equal(input[c * 4 + (3 - r)], output[r * 4 + c]);
    }

    [Fact]
    public void ShearXShiftsEachRowInProportionToItsHeight()
    {
        using var x = Ramp(4);
        // x_in = x + 2·y with pixel centres at +0.5: output (r, c) lands on the centre of input column c + 2r + 1.
        using var sheared = RandAugmentOps.Affine(x, new[] { RandAugmentOps.ShearXCoefficients(2) }, new float[] { 99 });
        var input = Values(x);
        var v = Values(sheared);
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++)
            {
                int source = c + 2 * r + 1;
                Assert.Equal(source < 4 ? input[r * 4 + source] : 99, v[r * 4 + c]);
            }
    }

    [Theory]
    [InlineData("autocontrast")]
    [InlineData("equalize")]
    [InlineData("invert")]
    [InlineData("posterize")]
    [InlineData("solarize")]
    [InlineData("solarize_add")]
    [InlineData("color")]
    [InlineData("contrast")]
    [InlineData("brightness")]
    [InlineData("sharpness")]
    [InlineData("rotate")]
    [InlineData("shear_x")]
    [InlineData("shear_y")]
    [InlineData("translate_x")]
    [InlineData("translate_y")]
    public void EachOperationMatchesPil(string name)
    {
        // tests/golden/randaugment/make_pil_golden.py wrote PIL 9.4's results with the same arguments.
        using var golden = SafeTensorsFile.Open(Path.Combine(TestPaths.Golden, "randaugment", "pil_ops.safetensors"));
        using var rawInput = golden.Read("input");
        using var rawExpected = golden.Read(name);
        using var input = rawInput.to_type(ScalarType.Float32);
        using var expected = rawExpected.to_type(ScalarType.Float32);
        int n = (int)input.shape[0], size = (int)input.shape[2];
        float[] A(float v) => Enumerable.Repeat(v, n).ToArray();
        Tensor Geometric(double[] k) => RandAugmentOps.Affine(input, Enumerable.Repeat(k, n).ToList(), new float[] { 124, 116, 104 });
        using var actual = name switch
        {
            "autocontrast" => RandAugmentOps.AutoContrast(input),
            "equalize" => RandAugmentOps.Equalize(input),
            "invert" => RandAugmentOps.Invert(input),
            "posterize" => RandAugmentOps.Posterize(input, A(2)),
            "solarize" => RandAugmentOps.Solarize(input, A(100)),
            "solarize_add" => RandAugmentOps.SolarizeAdd(input, A(60)),
            "color" => RandAugmentOps.Color(input, A(1.81f)),
            "contrast" => RandAugmentOps.Contrast(input, A(0.19f)),
            "brightness" => RandAugmentOps.Brightness(input, A(1.81f)),
            "sharpness" => RandAugmentOps.Sharpness(input, A(1.81f)),
            "rotate" => Geometric(RandAugmentOps.RotateCoefficients(27, size, size)),
            "shear_x" => Geometric(RandAugmentOps.ShearXCoefficients(0.27)),
            "shear_y" => Geometric(RandAugmentOps.ShearYCoefficients(-0.27)),
            "translate_x" => Geometric(RandAugmentOps.TranslateXCoefficients(0.405, size)),
            _ => Geometric(RandAugmentOps.TranslateYCoefficients(-0.405, size)),
        };
        using var difference = actual.sub(expected).abs();
        Assert.Equal(expected.shape, actual.shape);
        // float32 against PIL's own arithmetic: a level apart at most, and only where a value sits on a rounding edge.
        Assert.True(difference.max().item<float>() <= 1, $"{name}: max difference {difference.max().item<float>()}");
        Assert.True(difference.gt(0).to_type(ScalarType.Float32).mean().item<float>() <= 0.02, $"{name}: too many pixels differ");
        Assert.False(Same(actual, input), $"{name} left the image unchanged");
    }

    [Fact]
    public void MagnitudeNineMapsToTimmsArguments()
    {
        double Arg(RandAugmentOp op, bool inc = true, bool negate = false) => RandAugment.Argument(op, 9, inc, 0.45, negate);
        Assert.Equal(27, Arg(RandAugmentOp.Rotate), 9);
        Assert.Equal(-27, Arg(RandAugmentOp.Rotate, negate: true), 9);
        Assert.Equal(1, Arg(RandAugmentOp.Posterize));             // 4 − int(3.6)
        Assert.Equal(3, Arg(RandAugmentOp.Posterize, inc: false));
        Assert.Equal(26, Arg(RandAugmentOp.Solarize));             // 256 − int(230.4)
        Assert.Equal(230, Arg(RandAugmentOp.Solarize, inc: false));
        Assert.Equal(99, Arg(RandAugmentOp.SolarizeAdd));
        Assert.Equal(1.81, Arg(RandAugmentOp.Color), 9);
        Assert.Equal(0.19, Arg(RandAugmentOp.Contrast, negate: true), 9);
        Assert.Equal(1.72, Arg(RandAugmentOp.Sharpness, inc: false), 9);
        Assert.Equal(0.27, Arg(RandAugmentOp.ShearX), 9);
        Assert.Equal(-0.405, Arg(RandAugmentOp.TranslateYRel, negate: true), 9);
        Assert.Equal(0.1, RandAugment.Argument(RandAugmentOp.Brightness, 10, true, 0.45, negate: true), 9); // floor of 0.1
    }

    [Fact]
    public void ParseReadsTimmsConfigString()
    {
        var paper = RandAugmentOptions.Parse("rand-m9-mstd0.5-inc1");
        Assert.Equal(9, paper.Magnitude);
        Assert.Equal(0.5, paper.MagnitudeStd);
        Assert.True(paper.Increasing);
        Assert.Equal(2, paper.NumLayers);
        Assert.Equal(0.5, paper.Probability);
        Assert.Equal(10, paper.MagnitudeMax);
        Assert.Equal("rand-m9-mstd0.5-mmax10-n2-p0.5-inc1", paper.ToString());
        Assert.Equal(paper.ToString(), RandAugmentOptions.Parse(paper.ToString()).ToString());

        var other = RandAugmentOptions.Parse("rand-n3-m12-mmax15-mstd101-p1");
        Assert.Equal(3, other.NumLayers);
        Assert.Equal(12, other.Magnitude);
        Assert.Equal(15, other.MagnitudeMax);
        Assert.True(double.IsPositiveInfinity(other.MagnitudeStd));
        Assert.Equal(1, other.Probability);
        Assert.False(other.Increasing);

        var bare = RandAugmentOptions.Parse("rand");
        Assert.Equal(10, bare.Magnitude);                          // timm's defaults when a section is absent
        Assert.Equal(0, bare.MagnitudeStd);
    }

    [Theory]
    [InlineData("augmix-m5", "must start with 'rand'")]
    [InlineData("rand-m", "section 'm'")]
    [InlineData("rand-x3", "unknown section 'x'")]
    [InlineData("rand-w0", "'w'")]
    [InlineData("rand-inc2", "inc must be 0 or 1")]
    [InlineData("rand-p1.5", "Probability")]
    [InlineData("rand-n0", "NumLayers")]
    [InlineData("rand-n2.5", "whole number")]
    [InlineData("rand-m9-mstdx", "section 'mstdx'")]
    [InlineData("rand-m9.1.2", "no valid number")]
    public void ParseRejectsBadStringsNamingTheSection(string config, string expected)
    {
        var error = Assert.Throws<FormatException>(() => RandAugmentOptions.Parse(config));
        Assert.Contains(expected, error.Message);
        Assert.Contains(config, error.Message);
    }

    static Tensor Apply(RandAugmentOptions options, Tensor images, ulong seed, float[]? fill = null)
    {
        using var generator = new Generator(seed);
        return new RandAugment(options).Apply(images.to_type(ScalarType.Float32), new RandomSource(generator), fill ?? new float[] { 124, 116, 104 });
    }

    [Fact]
    public void ASeedFixesEveryImagesOperations()
    {
        using var data = TrainingData.Separable(32, size: 16, seed: 2);
        var options = RandAugmentOptions.Parse("rand-m9-mstd0.5-inc1");
        using var a = Apply(options, data.Images, seed: 7);
        using var b = Apply(options, data.Images, seed: 7);
        using var c = Apply(options, data.Images, seed: 8);
        using var original = data.Images.to_type(ScalarType.Float32);
        Assert.True(Same(a, b));
        Assert.False(Same(a, c));
        Assert.True(a.eq(a.round()).all().item<bool>());
        Assert.True(a.ge(0).logical_and(a.le(255)).all().item<bool>());
        // With p = 0.5 and two layers, about a quarter of the images are untouched and most are changed.
        int changed = Enumerable.Range(0, 32).Count(i => !Same(a[i], original[i]));
        Assert.InRange(changed, 16, 31);
    }

    [Fact]
    public void SampleDrawsEveryImageIndependentlyWithTheGivenProbability()
    {
        using var generator = new Generator(3);
        var plan = new RandAugment(RandAugmentOptions.Parse("rand-m9-mstd0.5-inc1")).Sample(400, new RandomSource(generator));
        int applied = 0;
        var seen = new HashSet<RandAugmentOp>();
        for (int i = 0; i < 400; i++)
            for (int l = 0; l < 2; l++)
                if (plan[i, l] is { } step) { applied++; seen.Add(step.Op); }
        Assert.InRange(applied / 800.0, 0.44, 0.56);
        Assert.Equal(15, seen.Count);

        var never = new RandAugment(new RandAugmentOptions { Probability = 0 }).Sample(50, new RandomSource(generator));
        Assert.All(Enumerable.Range(0, 50), i => Assert.Null(never[i, 0]));
    }

    [Fact]
    public void GreyscaleBatchesStayGreyscale()
    {
        using var data = TrainingData.Separable(16, size: 12, seed: 5);
        var options = new RandAugmentOptions { Probability = 1, NumLayers = 3 };
        using var single = Apply(options, data.Images.narrow(1, 0, 1), seed: 4);
        Assert.Equal(new long[] { 16, 1, 12, 12 }, single.shape);

        using var grey = data.Images.narrow(1, 0, 1).expand(-1, 3, -1, -1).contiguous();
        using var out3 = Apply(options, grey, seed: 4, fill: new float[] { 128, 128, 128 });
        Assert.True(Same(out3.narrow(1, 0, 1), out3.narrow(1, 1, 1)));
        Assert.True(Same(out3.narrow(1, 0, 1), out3.narrow(1, 2, 1)));
    }

    [Fact]
    public void DefaultAugmentationLeavesRandAugmentOffAndTheFingerprintUnchanged()
    {
        Assert.Null(AugmentationOptions.Default.RandAugment);
        Assert.Null(new TrainingOptions().Augmentation.RandAugment);
        Assert.DoesNotContain("randaug", AugmentationOptions.Default.ToString());
        var on = AugmentationOptions.Default;
        on.RandAugment = RandAugmentOptions.Parse("rand-m9-mstd0.5-inc1");
        Assert.EndsWith(" randaug=rand-m9-mstd0.5-mmax10-n2-p0.5-inc1", on.ToString());
        on.RandAugment.NumLayers = 0;
        Assert.Contains("NumLayers", Assert.Throws<ArgumentException>(on.Validate).Message);
    }

    [Fact]
    public void BatchAugmenterRunsRandAugmentAfterTheCropAndBeforeErasing()
    {
        using var data = TrainingData.Separable(8, size: 16, seed: 6);
        var options = AugmentationOptions.None;
        options.RandAugment = new RandAugmentOptions { Probability = 1, NumLayers = 1, MagnitudeStd = 0 };
        using var generator = new Generator(11);
        var augmenter = new BatchAugmenter(options, 4, 0, InputConvention.ImageNet);
        using var batch = augmenter.Apply(data.Images, data.Labels, new RandomSource(generator));

        // The same draws through RandAugment alone, with ImageNet's mean as the fill, give the same pixels.
        using var again = new Generator(11);
        using var direct = new RandAugment(options.RandAugment).Apply(data.Images.to_type(ScalarType.Float32), new RandomSource(again), new float[] { 124, 116, 104 });
        Assert.True(Same(batch.Pixels, direct));
        using var original = data.Images.to_type(ScalarType.Float32);
        Assert.False(Same(batch.Pixels, original));
    }
}

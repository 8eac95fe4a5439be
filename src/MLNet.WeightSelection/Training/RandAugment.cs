using static TorchSharp.torch;

namespace MLNet.WeightSelection.Training;

/// <summary>The 15 operations of timm's RandAugment lists, in timm's order.</summary>
internal enum RandAugmentOp
{
    AutoContrast, Equalize, Invert, Rotate, Posterize, Solarize, SolarizeAdd,
    Color, Contrast, Brightness, Sharpness, ShearX, ShearY, TranslateXRel, TranslateYRel,
}

/// <summary>One image's operation in one layer: what to do and its argument (degrees, bits, threshold, factor, share).</summary>
internal readonly record struct RandAugmentStep(RandAugmentOp Op, double Argument);

/// <summary>
/// RandAugment on a batch: every image draws its own operations, probabilities, magnitudes and signs from the
/// <see cref="RandomSource"/>; then, layer by layer, the images sharing an operation are processed together, and all
/// geometric operations of a layer share one grid sample.
/// </summary>
internal sealed class RandAugment
{
    const int OpCount = 15;
    readonly RandAugmentOptions _options;

    public RandAugment(RandAugmentOptions options) => _options = options;

    /// <summary>
    /// The operation argument timm's level functions give for <paramref name="magnitude"/> (0–10 scale);
    /// <paramref name="negate"/> flips the sign of the signed ones (rotation, shear, translation, increasing enhancements).
    /// </summary>
    public static double Argument(RandAugmentOp op, double magnitude, bool increasing, double translatePercent, bool negate)
    {
        double level = magnitude / 10;
        double Signed(double v) => negate ? -v : v;
        return op switch
        {
            RandAugmentOp.Rotate => Signed(level * 30),
            RandAugmentOp.Posterize => increasing ? 4 - (int)(level * 4) : (int)(level * 4),
            RandAugmentOp.Solarize => increasing ? 256 - (int)(level * 256) : (int)(level * 256),
            RandAugmentOp.SolarizeAdd => (int)(level * 110),
            RandAugmentOp.Color or RandAugmentOp.Contrast or RandAugmentOp.Brightness or RandAugmentOp.Sharpness =>
                increasing ? Math.Max(0.1, 1 + Signed(level * 0.9)) : level * 1.8 + 0.1,
            RandAugmentOp.ShearX or RandAugmentOp.ShearY => Signed(level * 0.3),
            RandAugmentOp.TranslateXRel or RandAugmentOp.TranslateYRel => Signed(level * translatePercent),
            _ => 0,
        };
    }

    static bool IsSigned(RandAugmentOp op, bool increasing) => op switch
    {
        RandAugmentOp.Rotate or RandAugmentOp.ShearX or RandAugmentOp.ShearY or RandAugmentOp.TranslateXRel or RandAugmentOp.TranslateYRel => true,
        RandAugmentOp.Color or RandAugmentOp.Contrast or RandAugmentOp.Brightness or RandAugmentOp.Sharpness => increasing,
        _ => false,
    };

    static bool IsGeometric(RandAugmentOp op) =>
        op is RandAugmentOp.Rotate or RandAugmentOp.ShearX or RandAugmentOp.ShearY or RandAugmentOp.TranslateXRel or RandAugmentOp.TranslateYRel;

    /// <summary>
    /// Draws every image's steps, in timm's order per image: the operations of all layers, then for each one whether
    /// it applies, its magnitude (gaussian around the mean, clipped to [0, max]) and its sign. A skipped step is null.
    /// </summary>
    public RandAugmentStep?[,] Sample(int batch, RandomSource random)
    {
        int layers = _options.NumLayers;
        var plan = new RandAugmentStep?[batch, layers];
        var ops = new RandAugmentOp[layers];
        for (int i = 0; i < batch; i++)
        {
            for (int l = 0; l < layers; l++) ops[l] = (RandAugmentOp)random.NextInt(0, OpCount);
            for (int l = 0; l < layers; l++)
            {
                if (_options.Probability < 1 && random.NextDouble() > _options.Probability) continue;
                double magnitude = _options.Magnitude;
                if (double.IsPositiveInfinity(_options.MagnitudeStd)) magnitude = random.Uniform(0, magnitude);
                else if (_options.MagnitudeStd > 0) magnitude += _options.MagnitudeStd * random.Normal();
                magnitude = Math.Clamp(magnitude, 0, _options.MagnitudeMax);
                bool negate = IsSigned(ops[l], _options.Increasing) && random.NextDouble() > 0.5;
                plan[i, l] = new RandAugmentStep(ops[l], Argument(ops[l], magnitude, _options.Increasing, _options.TranslatePercent, negate));
            }
        }
        return plan;
    }

    /// <summary>
    /// Augments <paramref name="x"/> (float [B, C, H, W], 0–255) with freshly drawn steps; geometric operations fill
    /// uncovered pixels with <paramref name="fill"/> (one value per channel, timm's img_mean).
    /// </summary>
    public Tensor Apply(Tensor x, RandomSource random, float[] fill) => Apply(x, Sample((int)x.shape[0], random), fill);

    /// <summary>Runs a drawn plan: rows are images, columns layers, applied in layer order.</summary>
    public static Tensor Apply(Tensor x, RandAugmentStep?[,] plan, float[] fill)
    {
        using var scope = NewDisposeScope();
        int batch = plan.GetLength(0), height = (int)x.shape[2], width = (int)x.shape[3];
        // timm runs RandAugment on uint8 PIL images, so the operations see whole numbers.
        var result = x.round().clamp(0, 255);
        for (int layer = 0; layer < plan.GetLength(1); layer++)
        {
            var geometric = new List<long>();
            var coefficients = new List<double[]>();
            var groups = new Dictionary<RandAugmentOp, (List<long> Images, List<float> Arguments)>();
            for (int i = 0; i < batch; i++)
            {
                if (plan[i, layer] is not { } step) continue;
                if (IsGeometric(step.Op))
                {
                    geometric.Add(i);
                    coefficients.Add(step.Op switch
                    {
                        RandAugmentOp.Rotate => RandAugmentOps.RotateCoefficients(step.Argument, height, width),
                        RandAugmentOp.ShearX => RandAugmentOps.ShearXCoefficients(step.Argument),
                        RandAugmentOp.ShearY => RandAugmentOps.ShearYCoefficients(step.Argument),
                        RandAugmentOp.TranslateXRel => RandAugmentOps.TranslateXCoefficients(step.Argument, width),
                        _ => RandAugmentOps.TranslateYCoefficients(step.Argument, height),
                    });
                    continue;
                }
                if (!groups.TryGetValue(step.Op, out var group)) groups[step.Op] = group = (new List<long>(), new List<float>());
                group.Images.Add(i);
                group.Arguments.Add((float)step.Argument);
            }
            if (geometric.Count > 0)
                result = Replace(result, geometric, images => RandAugmentOps.Affine(images, coefficients, FillFor(fill, (int)x.shape[1])));
            foreach (var (op, group) in groups)
            {
                var args = group.Arguments.ToArray();
                result = Replace(result, group.Images, images => op switch
                {
                    RandAugmentOp.AutoContrast => RandAugmentOps.AutoContrast(images),
                    RandAugmentOp.Equalize => RandAugmentOps.Equalize(images),
                    RandAugmentOp.Invert => RandAugmentOps.Invert(images),
                    RandAugmentOp.Posterize => RandAugmentOps.Posterize(images, args),
                    RandAugmentOp.Solarize => RandAugmentOps.Solarize(images, args),
                    RandAugmentOp.SolarizeAdd => RandAugmentOps.SolarizeAdd(images, args),
                    RandAugmentOp.Color => RandAugmentOps.Color(images, args),
                    RandAugmentOp.Contrast => RandAugmentOps.Contrast(images, args),
                    RandAugmentOp.Brightness => RandAugmentOps.Brightness(images, args),
                    _ => RandAugmentOps.Sharpness(images, args),
                });
            }
        }
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The fill per channel; a single-channel batch takes the mean of an RGB fill.</summary>
    static float[] FillFor(float[] fill, int channels) =>
        channels == fill.Length ? fill : Enumerable.Repeat(fill.Average(), channels).ToArray();

    static Tensor Replace(Tensor x, List<long> images, Func<Tensor, Tensor> op)
    {
        var index = tensor(images.ToArray(), device: x.device);
        return x.index_copy(0, index, op(x.index_select(0, index)));
    }
}

using MLNet.WeightSelection.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Training;

/// <summary>A crop rectangle in pixels: top row, left column, height and width.</summary>
internal readonly record struct CropBox(int Top, int Left, int Height, int Width);

/// <summary>How a batch was mixed: the weight of the original images and whether cutmix or mixup did it.</summary>
internal enum MixKind { None, Mixup, Cutmix }

/// <summary>An augmented batch: float RGB pixels (0–255 scale) and soft targets when the batch can be mixed.</summary>
internal sealed record AugmentedBatch(Tensor Pixels, Tensor? SoftTargets, double Lambda, MixKind Mix) : IDisposable
{
    public void Dispose()
    {
        Pixels.Dispose();
        SoftTargets?.Dispose();
    }
}

/// <summary>
/// Runs <see cref="AugmentationOptions"/> on a uint8 batch, in timm's order: random resized crop and flip (one
/// affine grid sample for the whole batch), RandAugment when it is on, random erasing with per-pixel noise, then batch mixup or cutmix with
/// smoothed soft targets. All draws come from the given <see cref="RandomSource"/>.
/// </summary>
internal sealed class BatchAugmenter
{
    readonly AugmentationOptions _options;
    readonly int _numClasses;
    readonly double _smoothing;
    readonly float[] _noiseMean = new float[3];
    readonly float[] _noiseStd = new float[3];
    readonly RandAugment? _randAugment;
    readonly float[] _fill = new float[3];

    /// <param name="options">What to apply.</param>
    /// <param name="numClasses">Classes of the soft targets.</param>
    /// <param name="smoothing">Label smoothing folded into the soft targets.</param>
    /// <param name="noiseConvention">
    /// Erased pixels get standard normal noise in this convention's normalized space (timm's "pixel" mode), mapped
    /// back to 0–255 RGB so every model that normalizes the batch sees the same pixels.
    /// </param>
    public BatchAugmenter(AugmentationOptions options, int numClasses, double smoothing, InputConvention noiseConvention)
    {
        _options = options;
        _numClasses = numClasses;
        _smoothing = smoothing;
        for (int rgb = 0; rgb < 3; rgb++)
        {
            int model = noiseConvention.Order == ChannelOrder.Bgr ? 2 - rgb : rgb;
            _noiseMean[rgb] = noiseConvention.Mean[model] * noiseConvention.Scale;
            _noiseStd[rgb] = noiseConvention.Std[model] * noiseConvention.Scale;
            // timm fills RandAugment's uncovered pixels with the model's mean colour rounded to 0–255 (img_mean).
            _fill[rgb] = MathF.Round(_noiseMean[rgb]);
        }
        if (options.RandAugment is { IsOff: false }) _randAugment = new RandAugment(options.RandAugment);
    }

    /// <summary>True when the batch loss must use soft targets (mixup or cutmix can fire).</summary>
    public bool UsesSoftTargets => _options.MixesBatches;

    /// <summary>Augments <paramref name="images"/> (uint8 [B, 3, H, W]) with labels <paramref name="labels"/> ([B]).</summary>
    public AugmentedBatch Apply(Tensor images, Tensor labels, RandomSource random)
    {
        using var scope = NewDisposeScope();
        int batch = (int)images.shape[0], height = (int)images.shape[2], width = (int)images.shape[3];
        var x = images.to_type(ScalarType.Float32);

        if (_options.RandomResizedCrop)
        {
            var boxes = new CropBox[batch];
            var flips = new bool[batch];
            for (int i = 0; i < batch; i++)
            {
                boxes[i] = SampleCrop(random, height, width);
                flips[i] = _options.HorizontalFlip && random.Chance(0.5);
            }
            x = ResizedCrop(x, boxes, flips);
        }
        else if (_options.RandomCropPadding > 0)
        {
            var offsets = new (int Top, int Left)[batch];
            var flips = new bool[batch];
            int span = 2 * _options.RandomCropPadding + 1;
            for (int i = 0; i < batch; i++)
            {
                offsets[i] = (random.NextInt(0, span), random.NextInt(0, span));
                flips[i] = _options.HorizontalFlip && random.Chance(0.5);
            }
            x = PaddedCrop(x, _options.RandomCropPadding, offsets);
            if (_options.HorizontalFlip) x = Flip(x, flips);
        }
        else if (_options.HorizontalFlip)
        {
            var flips = new bool[batch];
            for (int i = 0; i < batch; i++) flips[i] = random.Chance(0.5);
            x = Flip(x, flips);
        }

        if (_randAugment is not null) x = _randAugment.Apply(x, random, _fill);

        if (_options.RandomErasing > 0) x = Erase(x, random);

        Tensor? targets = null;
        double lambda = 1;
        var kind = MixKind.None;
        if (UsesSoftTargets)
        {
            (x, lambda, kind) = Mix(x, random);
            targets = MixedTargets(labels, _numClasses, _smoothing, lambda);
        }
        return new AugmentedBatch(x.MoveToOuterDisposeScope(), targets?.MoveToOuterDisposeScope(), lambda, kind);
    }

    /// <summary>timm's RandomResizedCrop.get_params: up to 10 tries of area and log-ratio, else a centre crop.</summary>
    public CropBox SampleCrop(RandomSource random, int height, int width)
    {
        double area = (double)height * width;
        double logMin = Math.Log(_options.CropRatioMin), logMax = Math.Log(_options.CropRatioMax);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * random.Uniform(_options.CropScaleMin, _options.CropScaleMax);
            double ratio = Math.Exp(random.Uniform(logMin, logMax));
            int w = (int)Math.Round(Math.Sqrt(target * ratio));
            int h = (int)Math.Round(Math.Sqrt(target / ratio));
            if (w > 0 && h > 0 && w <= width && h <= height)
                return new CropBox(random.NextInt(0, height - h + 1), random.NextInt(0, width - w + 1), h, w);
        }
        double inRatio = (double)width / height;
        int cw, ch;
        if (inRatio < _options.CropRatioMin) { cw = width; ch = (int)Math.Round(cw / _options.CropRatioMin); }
        else if (inRatio > _options.CropRatioMax) { ch = height; cw = (int)Math.Round(ch * _options.CropRatioMax); }
        else { cw = width; ch = height; }
        return new CropBox((height - ch) / 2, (width - cw) / 2, ch, cw);
    }

    /// <summary>
    /// Resamples each crop to the full image size with bilinear interpolation (pixel centres aligned,
    /// align_corners = false), mirrored where <paramref name="flips"/> says so.
    /// </summary>
    public static Tensor ResizedCrop(Tensor x, IReadOnlyList<CropBox> boxes, IReadOnlyList<bool> flips)
    {
        using var scope = NewDisposeScope();
        long batch = x.shape[0], height = x.shape[2], width = x.shape[3];
        var theta = new float[batch * 6];
        for (int i = 0; i < batch; i++)
        {
            var b = boxes[i];
            // Output x_out in [-1, 1] samples input x_in = x_out · w/W + (2·left + w)/W − 1 (same for rows).
            double sx = (double)b.Width / width, sy = (double)b.Height / height;
            theta[i * 6 + 0] = (float)(flips[i] ? -sx : sx);
            theta[i * 6 + 2] = (float)((2.0 * b.Left + b.Width) / width - 1);
            theta[i * 6 + 4] = (float)sy;
            theta[i * 6 + 5] = (float)((2.0 * b.Top + b.Height) / height - 1);
        }
        var grid = nn.functional.affine_grid(tensor(theta, new long[] { batch, 2, 3 }, device: x.device), x.shape, align_corners: false);
        return nn.functional.grid_sample(x, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Border, align_corners: false)
            .MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Reflect-pads every image by <paramref name="padding"/> pixels and cuts out a window of the original size at each
    /// image's (top, left) offset in the padded image, 0 to 2·padding (a pure translation, no resampling).
    /// </summary>
    public static Tensor PaddedCrop(Tensor x, int padding, IReadOnlyList<(int Top, int Left)> offsets)
    {
        using var scope = NewDisposeScope();
        long height = x.shape[2], width = x.shape[3];
        if (padding >= height || padding >= width)
            throw new ArgumentException($"RandomCropPadding {padding} must be smaller than the image side ({height}×{width} px): reflection cannot pad further.");
        var padded = nn.functional.pad(x, new long[] { padding, padding, padding, padding }, PaddingModes.Reflect);
        var crops = new Tensor[offsets.Count];
        for (int i = 0; i < crops.Length; i++)
            crops[i] = padded[i].narrow(1, offsets[i].Top, height).narrow(2, offsets[i].Left, width);
        return stack(crops).MoveToOuterDisposeScope();
    }

    /// <summary>Mirrors left to right exactly the images whose flag is set.</summary>
    public static Tensor Flip(Tensor x, IReadOnlyList<bool> flips)
    {
        using var scope = NewDisposeScope();
        var mask = tensor(flips.ToArray(), device: x.device).view(-1, 1, 1, 1);
        return where(mask, x.flip(3), x).MoveToOuterDisposeScope();
    }

    /// <summary>timm's RandomErasing (one box per image, area 2–33 %, log-ratio 0.3–3.3, 10 tries) with normal noise.</summary>
    Tensor Erase(Tensor x, RandomSource random)
    {
        int batch = (int)x.shape[0], height = (int)x.shape[2], width = (int)x.shape[3];
        var top = new long[batch];
        var bottom = new long[batch];
        var left = new long[batch];
        var right = new long[batch];
        bool any = false;
        double area = (double)height * width;
        double logMin = Math.Log(0.3), logMax = Math.Log(1 / 0.3);
        for (int i = 0; i < batch; i++)
        {
            if (!random.Chance(_options.RandomErasing)) continue;
            for (int attempt = 0; attempt < 10; attempt++)
            {
                double target = area * random.Uniform(0.02, 1.0 / 3.0);
                double ratio = Math.Exp(random.Uniform(logMin, logMax));
                int h = (int)Math.Round(Math.Sqrt(target * ratio));
                int w = (int)Math.Round(Math.Sqrt(target / ratio));
                if (w < width && h < height && w > 0 && h > 0)
                {
                    top[i] = random.NextInt(0, height - h + 1);
                    left[i] = random.NextInt(0, width - w + 1);
                    bottom[i] = top[i] + h;
                    right[i] = left[i] + w;
                    any = true;
                    break;
                }
            }
        }
        if (!any) return x;

        using var scope = NewDisposeScope();
        var mask = BoxMask(top, bottom, left, right, height, width, x.device);
        var noise = randn(x.shape, ScalarType.Float32, x.device, generator: random.Generator);
        var std = tensor(_noiseStd, new long[] { 1, 3, 1, 1 }, device: x.device);
        var mean = tensor(_noiseMean, new long[] { 1, 3, 1, 1 }, device: x.device);
        return where(mask, noise.mul(std).add(mean), x).MoveToOuterDisposeScope();
    }

    /// <summary>timm's Mixup in batch mode: each image mixes with its mirror in the batch (index B−1−i).</summary>
    public (Tensor Mixed, double Lambda, MixKind Kind) Mix(Tensor x, RandomSource random)
    {
        if (!random.Chance(_options.MixProbability)) return (x, 1.0, MixKind.None);
        bool cutmix;
        double lambda;
        if (_options.MixupAlpha > 0 && _options.CutmixAlpha > 0)
        {
            cutmix = random.Chance(_options.SwitchProbability);
            double alpha = cutmix ? _options.CutmixAlpha : _options.MixupAlpha;
            lambda = random.Beta(alpha, alpha);
        }
        else if (_options.MixupAlpha > 0) { cutmix = false; lambda = random.Beta(_options.MixupAlpha, _options.MixupAlpha); }
        else { cutmix = true; lambda = random.Beta(_options.CutmixAlpha, _options.CutmixAlpha); }

        using var scope = NewDisposeScope();
        var partner = x.flip(0);
        if (!cutmix)
            return (x.mul(lambda).add(partner, 1 - lambda).MoveToOuterDisposeScope(), lambda, MixKind.Mixup);

        int height = (int)x.shape[2], width = (int)x.shape[3];
        double cut = Math.Sqrt(1 - lambda);
        int cutH = (int)(height * cut), cutW = (int)(width * cut);
        int cy = random.NextInt(0, height), cx = random.NextInt(0, width);
        long y0 = Math.Clamp(cy - cutH / 2, 0, height), y1 = Math.Clamp(cy + cutH / 2, 0, height);
        long x0 = Math.Clamp(cx - cutW / 2, 0, width), x1 = Math.Clamp(cx + cutW / 2, 0, width);
        // timm's correct_lam: the weight is the share of pixels actually kept after clipping the box.
        lambda = 1 - (double)(y1 - y0) * (x1 - x0) / ((double)height * width);
        var mask = BoxMask(new[] { y0 }, new[] { y1 }, new[] { x0 }, new[] { x1 }, height, width, x.device);
        return (where(mask, partner, x).MoveToOuterDisposeScope(), lambda, MixKind.Cutmix);
    }

    /// <summary>λ·smooth(onehot(y)) + (1 − λ)·smooth(onehot(y reversed)): timm's mixup_target.</summary>
    public static Tensor MixedTargets(Tensor labels, int numClasses, double smoothing, double lambda)
    {
        using var scope = NewDisposeScope();
        var own = Losses.SmoothedOneHot(labels, numClasses, smoothing);
        var partner = Losses.SmoothedOneHot(labels.flip(0), numClasses, smoothing);
        return own.mul(lambda).add(partner, 1 - lambda).MoveToOuterDisposeScope();
    }

    /// <summary>A [B, 1, H, W] boolean mask, true inside each image's half-open box [top, bottom) × [left, right).</summary>
    static Tensor BoxMask(long[] top, long[] bottom, long[] left, long[] right, int height, int width, Device device)
    {
        using var scope = NewDisposeScope();
        long n = top.Length;
        var rows = arange(height, device: device).view(1, height, 1);
        var cols = arange(width, device: device).view(1, 1, width);
        var inRows = rows.ge(tensor(top, device: device).view(n, 1, 1)).logical_and(rows.lt(tensor(bottom, device: device).view(n, 1, 1)));
        var inCols = cols.ge(tensor(left, device: device).view(n, 1, 1)).logical_and(cols.lt(tensor(right, device: device).view(n, 1, 1)));
        return inRows.logical_and(inCols).unsqueeze(1).MoveToOuterDisposeScope();
    }
}

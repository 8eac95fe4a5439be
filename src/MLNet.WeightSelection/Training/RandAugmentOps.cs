using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// RandAugment's pixel operations on a float batch [N, C, H, W] holding whole numbers in 0–255, one argument per
/// image. They follow PIL's definitions (which timm calls), with C = 1 treated as greyscale; every result is clipped
/// and truncated back to whole numbers in 0–255, as PIL's uint8 images are (tests/golden/randaugment checks them
/// against PIL).
/// </summary>
internal static class RandAugmentOps
{
    static Tensor PerImage(float[] values, Device device) => tensor(values, new long[] { values.Length, 1, 1, 1 }, device: device);

    /// <summary>PIL's luminance L = 0.299 R + 0.587 G + 0.114 B as [N, 1, H, W]; a single channel is its own luminance.</summary>
    static Tensor Luminance(Tensor x)
    {
        if (x.shape[1] == 1) return x.clone();
        using var weights = tensor(new float[] { 0.299f, 0.587f, 0.114f }, new long[] { 1, 3, 1, 1 }, device: x.device);
        return x.mul(weights).sum(1, keepdim: true);
    }

    /// <summary>PIL's Image.blend(degenerate, image, factor): degenerate + factor · (image − degenerate), truncated to uint8 as PIL does.</summary>
    static Tensor Blend(Tensor degenerate, Tensor x, float[] factors)
    {
        using var scope = NewDisposeScope();
        return degenerate.add(x.sub(degenerate).mul(PerImage(factors, x.device))).clamp(0, 255).floor().MoveToOuterDisposeScope();
    }

    /// <summary>255 − x.</summary>
    public static Tensor Invert(Tensor x) => x.neg().add(255);

    /// <summary>Stretches each channel of each image linearly so its lowest value maps to 0 and its highest to 255 (PIL's autocontrast, no cutoff).</summary>
    public static Tensor AutoContrast(Tensor x)
    {
        using var scope = NewDisposeScope();
        var low = x.amin(new long[] { 2, 3 }, keepdim: true);
        var high = x.amax(new long[] { 2, 3 }, keepdim: true);
        var range = high.sub(low);
        var scale = range.clamp_min(1).reciprocal().mul(255);
        // PIL truncates; the small nudge keeps float32 rounding from turning an exact 255 (or any whole level) into one less.
        var stretched = x.sub(low).mul(scale).add(1e-3).floor().clamp(0, 255);
        return where(range.gt(0), stretched, x).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// PIL's equalize per channel: with step = (pixels − count of the top level) / 255 (integer division), level v maps to
    /// (step / 2 + pixels below v) / step; a channel whose step is 0 is left as it is.
    /// </summary>
    public static Tensor Equalize(Tensor x)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        var levels = x.to_type(ScalarType.Int64).reshape(n * c, h * w);
        var histogram = zeros(new long[] { n * c, 256 }, ScalarType.Int64, x.device).scatter_add_(1, levels, ones_like(levels));
        var top = levels.amax(new long[] { 1 }, keepdim: true);
        var step = histogram.gather(1, top).neg().add(h * w).div(255, RoundingMode.floor);
        var below = histogram.cumsum(1).sub(histogram);
        var lut = below.add(step.div(2, RoundingMode.floor)).div(step.clamp_min(1), RoundingMode.floor).clamp_max(255);
        var mapped = lut.gather(1, levels);
        var result = where(step.gt(0), mapped, levels);
        return result.to_type(x.dtype).reshape(n, c, h, w).MoveToOuterDisposeScope();
    }

    /// <summary>Keeps the top <paramref name="bits"/> bits of every value (PIL's posterize; 0 bits gives black).</summary>
    public static Tensor Posterize(Tensor x, float[] bits)
    {
        using var scope = NewDisposeScope();
        var quantum = PerImage(bits.Select(b => (float)Math.Pow(2, 8 - Math.Clamp(b, 0, 8))).ToArray(), x.device);
        return x.div(quantum).floor().mul(quantum).MoveToOuterDisposeScope();
    }

    /// <summary>Inverts every value at or above the image's threshold (PIL's solarize).</summary>
    public static Tensor Solarize(Tensor x, float[] thresholds)
    {
        using var scope = NewDisposeScope();
        return where(x.ge(PerImage(thresholds, x.device)), x.neg().add(255), x).MoveToOuterDisposeScope();
    }

    /// <summary>Adds the image's amount to every value below 128, capped at 255 (timm's solarize_add).</summary>
    public static Tensor SolarizeAdd(Tensor x, float[] amounts)
    {
        using var scope = NewDisposeScope();
        return where(x.lt(128), x.add(PerImage(amounts, x.device)).clamp_max(255), x).MoveToOuterDisposeScope();
    }

    /// <summary>Saturation: blends with the image's grey version (PIL's ImageEnhance.Color); greyscale images are unchanged.</summary>
    public static Tensor Color(Tensor x, float[] factors)
    {
        using var scope = NewDisposeScope();
        return Blend(Luminance(x).round(), x, factors).MoveToOuterDisposeScope();
    }

    /// <summary>Blends with a flat image at the rounded mean of the greyscale image (PIL's ImageEnhance.Contrast).</summary>
    public static Tensor Contrast(Tensor x, float[] factors)
    {
        using var scope = NewDisposeScope();
        var mean = Luminance(x).round().mean(new long[] { 1, 2, 3 }, keepdim: true).add(0.5).floor();
        return Blend(mean, x, factors).MoveToOuterDisposeScope();
    }

    /// <summary>Scales every value (PIL's ImageEnhance.Brightness: a blend with black).</summary>
    public static Tensor Brightness(Tensor x, float[] factors)
    {
        using var scope = NewDisposeScope();
        return Blend(zeros_like(x), x, factors).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Blends with PIL's SMOOTH filter ([[1,1,1],[1,5,1],[1,1,1]] / 13 on inner pixels, border pixels kept), as
    /// PIL's ImageEnhance.Sharpness does: factors above 1 sharpen, below 1 blur.
    /// </summary>
    public static Tensor Sharpness(Tensor x, float[] factors)
    {
        using var scope = NewDisposeScope();
        long c = x.shape[1], h = x.shape[2], w = x.shape[3];
        var kernel = tensor(new float[] { 1, 1, 1, 1, 5, 1, 1, 1, 1 }, new long[] { 1, 1, 3, 3 }, device: x.device)
            .div(13).expand(c, 1, 3, 3).contiguous();
        var smooth = nn.functional.conv2d(x, kernel, padding: new long[] { 1, 1 }, groups: c).round();
        var rows = arange(h, device: x.device).view(1, 1, h, 1);
        var cols = arange(w, device: x.device).view(1, 1, 1, w);
        var border = rows.eq(0).logical_or(rows.eq(h - 1)).logical_or(cols.eq(0)).logical_or(cols.eq(w - 1));
        var degenerate = where(border, x, smooth);
        return Blend(degenerate, x, factors).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// PIL's affine transform: output pixel (x, y) (pixel centres at +0.5) samples input (a·x + b·y + c, d·x + e·y + f),
    /// one (a, b, c, d, e, f) per image in <paramref name="coefficients"/>; bilinear, and pixels whose sample point falls
    /// outside the image take <paramref name="fill"/> (one value per channel).
    /// </summary>
    public static Tensor Affine(Tensor x, IReadOnlyList<double[]> coefficients, float[] fill)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], channels = x.shape[1], h = x.shape[2], w = x.shape[3];
        var theta = new float[n * 6];
        for (int i = 0; i < n; i++)
        {
            var (a, b, c, d, e, f) = (coefficients[i][0], coefficients[i][1], coefficients[i][2], coefficients[i][3], coefficients[i][4], coefficients[i][5]);
            // Pixel coordinates X = (u + 1)·W/2 turn the pixel-space map into affine_grid's [-1, 1] space (align_corners = false).
            double ratio = (double)h / w;
            theta[i * 6 + 0] = (float)a;
            theta[i * 6 + 1] = (float)(b * ratio);
            theta[i * 6 + 2] = (float)(a + b * ratio + 2 * c / w - 1);
            theta[i * 6 + 3] = (float)(d / ratio);
            theta[i * 6 + 4] = (float)e;
            theta[i * 6 + 5] = (float)(d / ratio + e + 2 * f / h - 1);
        }
        var grid = nn.functional.affine_grid(tensor(theta, new long[] { n, 2, 3 }, device: x.device), new long[] { n, channels, h, w }, align_corners: false);
        // As PIL does: a sample point inside the image interpolates with edge pixels repeated; one outside it is fill.
        var sampled = nn.functional.grid_sample(x, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Border, align_corners: false);
        var u = grid.select(3, 0);
        var v = grid.select(3, 1);
        var inside = u.ge(-1).logical_and(u.lt(1)).logical_and(v.ge(-1)).logical_and(v.lt(1)).unsqueeze(1);
        var fillColour = tensor(fill, new long[] { 1, channels, 1, 1 }, device: x.device);
        return where(inside, sampled, fillColour).clamp(0, 255).floor().MoveToOuterDisposeScope();
    }

    /// <summary>PIL's rotate(degrees) about the image centre, counter-clockwise on screen, as affine coefficients.</summary>
    public static double[] RotateCoefficients(double degrees, int height, int width)
    {
        double t = degrees * Math.PI / 180, cos = Math.Cos(t), sin = Math.Sin(t);
        double cx = width / 2.0, cy = height / 2.0;
        return new[] { cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy };
    }

    /// <summary>timm's shear_x: x_in = x + factor · y.</summary>
    public static double[] ShearXCoefficients(double factor) => new[] { 1, factor, 0, 0, 1, 0 };

    /// <summary>timm's shear_y: y_in = y + factor · x.</summary>
    public static double[] ShearYCoefficients(double factor) => new[] { 1, 0, 0, factor, 1, 0 };

    /// <summary>timm's translate_x_rel: x_in = x + share · width (content moves left for a positive share).</summary>
    public static double[] TranslateXCoefficients(double share, int width) => new[] { 1, 0, share * width, 0, 1, 0 };

    /// <summary>timm's translate_y_rel: y_in = y + share · height.</summary>
    public static double[] TranslateYCoefficients(double share, int height) => new[] { 1, 0, 0, 0, 1, share * height };
}

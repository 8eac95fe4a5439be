using Microsoft.ML.Data;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>
/// A generated task that needs spatial features, not colour: stripes in one of four orientations (horizontal,
/// vertical, diagonal, anti-diagonal), with random colours, period, phase and noise. Images are planar 0–255 RGB.
/// </summary>
public static class StripesTask
{
    public const int Classes = 4;

    public static readonly string[] Names = { "horizontal", "vertical", "diagonal", "antidiagonal" };

    /// <summary>One image as a row for ML.NET.</summary>
    public sealed class Row
    {
        [VectorType(3, 32, 32)]
        public float[] Image { get; set; } = Array.Empty<float>();

        public string Label { get; set; } = "";
    }

    /// <summary><paramref name="count"/> images of side <paramref name="size"/>, classes in turn.</summary>
    public static (byte[] Pixels, long[] Labels) Generate(int count, int seed, int size = 32)
    {
        var rng = new Random(seed);
        int plane = size * size;
        var pixels = new byte[count * 3 * plane];
        var labels = new long[count];
        for (int n = 0; n < count; n++)
        {
            int c = n % Classes;
            labels[n] = c;
            double period = 4 + rng.NextDouble() * 4, phase = rng.NextDouble() * 2 * Math.PI;
            var a = new[] { rng.Next(256), rng.Next(256), rng.Next(256) };
            var b = new[] { rng.Next(256), rng.Next(256), rng.Next(256) };
            // Keep the two colours apart so the stripes are visible.
            if (Math.Abs(a[0] - b[0]) + Math.Abs(a[1] - b[1]) + Math.Abs(a[2] - b[2]) < 200) b = a.Select(v => 255 - v).ToArray();
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                {
                    double t = c switch { 0 => y, 1 => x, 2 => (x + y) / Math.Sqrt(2), _ => (x - y) / Math.Sqrt(2) };
                    double w = (Math.Sin(2 * Math.PI * t / period + phase) + 1) / 2;
                    for (int ch = 0; ch < 3; ch++)
                    {
                        double v = a[ch] * w + b[ch] * (1 - w) + rng.Next(-20, 21);
                        pixels[n * 3 * plane + ch * plane + y * size + x] = (byte)Math.Clamp(Math.Round(v), 0, 255);
                    }
                }
        }
        return (pixels, labels);
    }

    /// <summary>The same images as ML.NET rows.</summary>
    public static List<Row> Rows(byte[] pixels, long[] labels, int size = 32)
    {
        int length = 3 * size * size;
        return labels.Select((l, n) => new Row
        {
            Image = pixels.AsSpan(n * length, length).ToArray().Select(v => (float)v).ToArray(),
            Label = Names[l],
        }).ToList();
    }
}

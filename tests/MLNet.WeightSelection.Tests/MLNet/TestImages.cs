using Microsoft.ML;
using SkiaSharp;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>Small generated images written as PNG files, and rows that point at them.</summary>
public static class TestImages
{
    /// <summary>One row of an image-folder data set.</summary>
    public sealed class Row
    {
        /// <summary>File name inside the folder.</summary>
        public string ImagePath { get; set; } = "";

        /// <summary>Class name.</summary>
        public string Label { get; set; } = "";
    }

    /// <summary>Writes an RGB PNG whose pixels come from <paramref name="pixel"/>(x, y).</summary>
    public static void WritePng(string path, int width, int height, Func<int, int, (byte R, byte G, byte B)> pixel)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                var (r, g, b) = pixel(x, y);
                bitmap.SetPixel(x, y, new SKColor(r, g, b));
            }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>Writes a single-channel (grayscale) PNG.</summary>
    public static void WriteGrayPng(string path, int width, int height, Func<int, int, byte> pixel)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                byte v = pixel(x, y);
                bitmap.SetPixel(x, y, new SKColor(v, v, v));
            }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>Primary colours with a little per-image noise: class i is dominated by channel i.</summary>
    public static readonly string[] ColourNames = { "red", "green", "blue" };

    /// <summary>Writes <paramref name="perClass"/> noisy primary-colour images per class into <paramref name="folder"/>.</summary>
    public static List<Row> Colours(string folder, int perClass, int size = 12, int seed = 1, int classes = 3)
    {
        var rng = new Random(seed);
        var rows = new List<Row>();
        for (int i = 0; i < perClass; i++)
            for (int c = 0; c < classes; c++)
            {
                string name = $"{ColourNames[c]}_{i}.png";
                int w = size + rng.Next(0, 5), h = size + rng.Next(0, 5);
                WritePng(Path.Combine(folder, name), w, h, (x, y) =>
                {
                    byte hi = (byte)rng.Next(150, 256), lo1 = (byte)rng.Next(0, 100), lo2 = (byte)rng.Next(0, 100);
                    return c switch { 0 => (hi, lo1, lo2), 1 => (lo1, hi, lo2), _ => (lo1, lo2, hi) };
                });
                rows.Add(new Row { ImagePath = name, Label = ColourNames[c] });
            }
        return rows;
    }

    /// <summary>The rows as a data view with a key-typed Label and an Image column loaded from <paramref name="folder"/>.</summary>
    public static IDataView LoadKeyed(MLContext ml, IEnumerable<Row> rows, string folder) => LoadKeyed(ml, ml.Data.LoadFromEnumerable(rows), folder);

    /// <summary>Keys the Label column of <paramref name="raw"/> and loads its ImagePath images from <paramref name="folder"/>.</summary>
    public static IDataView LoadKeyed(MLContext ml, IDataView raw, string folder) =>
        ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.LoadImages("Image", folder, "ImagePath")).Fit(raw).Transform(raw);
}

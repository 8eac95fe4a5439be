using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.WeightSelection.MLNet;

/// <summary>
/// The side of the input images, for the fitted image size (<see cref="Training.TrainingRecipe.ImageSize"/>): known
/// from the schema for pixel vectors, else measured on the first rows as the median of each image's larger side.
/// </summary>
internal static class SourceImageSide
{
    /// <summary>Rows looked at for images and encoded bytes: enough for a stable median, cheap next to training.</summary>
    public const int SampledRows = 32;

    /// <summary>The side, or null when no image in the sampled rows could be read (the reading step reports why later).</summary>
    public static int? Measure(IDataView data, ImageColumn image)
    {
        if (image.Kind == ImageColumnKind.Pixels) return Math.Max(image.Height, image.Width);
        var sides = new List<int>();
        var column = data.Schema[image.Name];
        using var cursor = data.GetRowCursor(new[] { column });
        if (image.Kind == ImageColumnKind.Image)
        {
            var get = cursor.GetGetter<MLImage>(column);
            MLImage? value = null;
            while (sides.Count < SampledRows && cursor.MoveNext())
            {
                try
                {
                    get(ref value!);
                    if (value is { Width: > 0, Height: > 0 }) sides.Add(Math.Max(value.Width, value.Height));
                }
                catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException)
                {
                    // An unreadable image is reported with its row when the data is read.
                }
                finally
                {
                    value?.Dispose();
                    value = null;
                }
            }
        }
        else
        {
            var get = cursor.GetGetter<VBuffer<byte>>(column);
            var bytes = default(VBuffer<byte>);
            while (sides.Count < SampledRows && cursor.MoveNext())
            {
                get(ref bytes);
                try
                {
                    using var decoded = MLImage.CreateFromStream(new MemoryStream(bytes.DenseValues().ToArray(), writable: false));
                    sides.Add(Math.Max(decoded.Width, decoded.Height));
                }
                catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException)
                {
                }
            }
        }
        if (sides.Count == 0) return null;
        sides.Sort();
        return sides[sides.Count / 2];
    }
}

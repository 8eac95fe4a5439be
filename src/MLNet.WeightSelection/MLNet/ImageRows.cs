using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.WeightSelection.MLNet;

/// <summary>Images read once from a data view into a <see cref="PixelBuffer"/>: 0-based class indices, and what was skipped.</summary>
/// <param name="Labels">0-based class index (key − 1) per image.</param>
/// <param name="ImageSize">Side of the square images.</param>
/// <param name="RowsSeen">Rows the cursor went through.</param>
/// <param name="Skipped">Rows skipped as unreadable (only with SkipUnreadableImages), with the reason of each.</param>
internal sealed record ImageRows(long[] Labels, int ImageSize, long RowsSeen, IReadOnlyList<(long Row, string Reason)> Skipped)
{
    /// <summary>Number of images read.</summary>
    public int Count => Labels.Length;

    /// <summary>
    /// Reads <paramref name="pixelData"/> (the output of <see cref="PixelPipeline"/>) in one single-threaded pass. Each
    /// image is decoded, resized and extracted inside the cursor loop (ML.NET's image getters dispose the previous
    /// image), rounded to bytes and appended to <paramref name="output"/> (image after image, the R, G and B planes of
    /// <c>imageSize²</c> bytes each).
    /// </summary>
    /// <param name="pixelData">Data holding <see cref="PixelPipeline.PixelsColumn"/> and the label.</param>
    /// <param name="label">The label column.</param>
    /// <param name="imageSize">Side of the images.</param>
    /// <param name="imageColumn">The user's image column, for error messages.</param>
    /// <param name="skipUnreadable">Skip and count rows whose image cannot be read, instead of failing.</param>
    /// <param name="throwIfCanceled">Called before every row.</param>
    /// <param name="output">Where the images go.</param>
    /// <exception cref="InvalidDataException">A row's image could not be read (names the row), or a label is missing.</exception>
    public static ImageRows Read(IDataView pixelData, LabelColumn label, int imageSize, string imageColumn, bool skipUnreadable, Action throwIfCanceled,
        PixelBuffer output)
    {
        int imageBytes = 3 * imageSize * imageSize;
        var pixelsColumn = pixelData.Schema[PixelPipeline.PixelsColumn];
        var labelColumn = pixelData.Schema[label.Name];
        var target = new byte[imageBytes];
        var labels = new List<long>();
        var skipped = new List<(long, string)>();
        long rows = 0;

        // One cursor, not a cursor set: a parallel cursor would wrap getter exceptions and die on the first bad image.
        using var cursor = pixelData.GetRowCursorSet(new[] { pixelsColumn, labelColumn }, 1)[0];
        var getPixels = cursor.GetGetter<VBuffer<float>>(pixelsColumn);
        var getLabel = cursor.GetGetter<uint>(labelColumn);
        VBuffer<float> pixels = default;
        uint key = 0;
        while (true)
        {
            throwIfCanceled();
            if (!cursor.MoveNext()) break;
            long row = cursor.Position;
            rows++;
            getLabel(ref key);
            if (key == 0)
                throw new InvalidDataException(
                    $"Row {row}: the label '{label.Name}' is missing (key 0: a value MapValueToKey did not know). Remove the row or map every label value.");
            try
            {
                getPixels(ref pixels);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                string reason = Innermost(e).Message;
                if (!skipUnreadable)
                    throw new InvalidDataException(
                        $"Row {row}: the image in column '{imageColumn}' could not be read: {reason} " +
                        "Fix or remove it, or set SkipUnreadableImages = true to skip such rows.", e);
                skipped.Add((row, reason));
                continue;
            }
            if (pixels.Length != imageBytes)
                throw new InvalidDataException($"Row {row}: expected {imageBytes} pixel values from column '{imageColumn}', got {pixels.Length}.");

            var values = pixels.GetValues();
            if (values.Length == imageBytes)
            {
                for (int i = 0; i < imageBytes; i++)
                    target[i] = ToByte(values[i], row, imageColumn);
            }
            else
            {
                Array.Clear(target);
                var indices = pixels.GetIndices();
                for (int i = 0; i < values.Length; i++)
                    target[indices[i]] = ToByte(values[i], row, imageColumn);
            }
            output.Append(target);
            labels.Add(key - 1);
        }

        return new ImageRows(labels.ToArray(), imageSize, rows, skipped);
    }

    static byte ToByte(float value, long row, string imageColumn)
    {
        if (!(value >= -0.5f && value <= 255.5f))
            throw new InvalidDataException(
                $"Row {row}: a pixel of column '{imageColumn}' is {value}; pixels must be 0–255 (ExtractPixels with its default scaleImage 1 and offsetImage 0).");
        return (byte)MathF.Round(value);
    }

    static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null && (e is InvalidOperationException or System.Reflection.TargetInvocationException or AggregateException))
            e = e.InnerException;
        return e;
    }
}

using Microsoft.ML;
using MLNet.WeightSelection.Training;

namespace MLNet.WeightSelection.MLNet;

/// <summary>Reads data views into cached image tensors through the fitted pixel steps, with the checks <c>Fit</c> promises.</summary>
internal static class ReadData
{
    /// <summary>
    /// Reads <paramref name="data"/> through the fitted <paramref name="pixels"/> steps; throws before any training when
    /// it is empty or (for training data) has one class. <paramref name="threads"/> caps the decoding threads
    /// (<see cref="ImageRows.Read"/>; the options' <c>Threads</c>); null: one per core. With a <paramref name="cache"/>,
    /// data read before with the same settings comes from it, and data read now is kept in it (<see cref="PixelCache"/>).
    /// </summary>
    public static (ImageTensorDataset Data, int Skipped) Read(MLContext ml, ITransformer pixels, IDataView data, ImageColumn image, LabelColumn label, int imageSize,
        bool skipUnreadable, Action throwIfCanceled, Action<string> log, string what, bool requireTwoClasses, int? threads = null, PixelCache? cache = null)
    {
        string? key = null;
        if (cache is not null)
        {
            (key, string? whyNot) = PixelCacheKey.Compute(data, image, label, imageSize, skipUnreadable, throwIfCanceled);
            if (key is null) log($"The pixel cache is not used for the {what}: {whyNot}.");
            else if (cache.TryOpen(key, imageSize, label.ClassCount) is var (cachedRows, cached))
            {
                log($"The {what}'s {cachedRows.Count:N0} images come from the pixel cache ({cache.PixelsPath(key)}): the data and reading settings are unchanged, so nothing is decoded.");
                try
                {
                    Check(cachedRows, image, anyAboveOne: true, label, what, requireTwoClasses, log);
                }
                catch
                {
                    cached.Dispose();
                    throw;
                }
                return (cached, cachedRows.Skipped.Count);
            }
        }

        int imageBytes = 3 * imageSize * imageSize;
        using var buffer = key is null ? new PixelBuffer(imageBytes, PixelBuffer.DefaultSpillBytes) : cache!.NewBuffer(imageBytes);
        var (view, column) = PixelPipeline.ForTraining(ml, pixels, data, image);
        var rows = ImageRows.Read(view, column, label, imageSize, image.Name, skipUnreadable, throwIfCanceled, buffer, threadCap: threads);
        Check(rows, image, buffer.AnyAboveOne, label, what, requireTwoClasses, log);
        if (key is not null)
        {
            var dataset = cache!.Commit(key, buffer, rows, label.ClassCount);
            log($"The {what}'s {rows.Count:N0} images are kept in the pixel cache ({cache.PixelsPath(key)}) for the next Fit on the same data.");
            return (dataset, rows.Skipped.Count);
        }
        if (buffer.OnDisk) log($"The {what}'s {rows.Count:N0} images ({(double)rows.Count * imageBytes / (1 << 30):F1} GiB of pixels) are memory-mapped from a file in the temporary folder, not held in memory.");
        return (buffer.ToDataset(rows.Labels, imageSize, label.ClassCount), rows.Skipped.Count);
    }

    static void Check(ImageRows rows, ImageColumn image, bool anyAboveOne, LabelColumn label, string what, bool requireTwoClasses, Action<string> log)
    {
        if (rows.Skipped.Count > 0)
        {
            log($"Skipped {rows.Skipped.Count} unreadable image(s) of {rows.RowsSeen} in the {what}: " +
                string.Join("; ", rows.Skipped.Take(5).Select(s => $"row {s.Row}: {s.Reason}")) + (rows.Skipped.Count > 5 ? "; ..." : ""));
        }
        if (rows.Count == 0)
            throw new InvalidOperationException(rows.RowsSeen == 0
                ? $"The {what} is empty: it has no rows."
                : $"The {what} has no readable image: all {rows.RowsSeen} rows were skipped as unreadable.");
        if (image.Kind == ImageColumnKind.Pixels && !anyAboveOne)
            throw new InvalidDataException(
                $"Every pixel of column '{image.Name}' in the {what} is 0 or 1: the pixels look scaled to 0–1. " +
                "Give ExtractPixels its default scaleImage (1), so pixels are 0–255.");
        if (requireTwoClasses)
        {
            var present = rows.Labels.Distinct().ToArray();
            if (present.Length < 2)
                throw new InvalidOperationException(
                    $"The {what} has only one class ('{label.Names[(int)present[0]]}' in all {rows.Count} rows); a classifier needs at least 2.");
        }
    }
}

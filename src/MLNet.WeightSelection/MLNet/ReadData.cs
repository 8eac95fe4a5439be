using Microsoft.ML;
using MLNet.WeightSelection.Training;

namespace MLNet.WeightSelection.MLNet;

/// <summary>Reads data views into cached image tensors through the fitted pixel steps, with the checks <c>Fit</c> promises.</summary>
internal static class ReadData
{
    /// <summary>
    /// Reads <paramref name="data"/> through the fitted <paramref name="pixels"/> steps; throws before any training when
    /// it is empty or (for training data) has one class. <paramref name="threads"/> caps the decoding threads
    /// (<see cref="ImageRows.Read"/>; the options' <c>Threads</c>); null: one per core.
    /// </summary>
    public static (ImageTensorDataset Data, int Skipped) Read(MLContext ml, ITransformer pixels, IDataView data, ImageColumn image, LabelColumn label, int imageSize,
        bool skipUnreadable, Action throwIfCanceled, Action<string> log, string what, bool requireTwoClasses, int? threads = null)
    {
        using var buffer = new PixelBuffer(3 * imageSize * imageSize, PixelBuffer.DefaultSpillBytes);
        var (view, column) = PixelPipeline.ForTraining(ml, pixels, data, image);
        var rows = ImageRows.Read(view, column, label, imageSize, image.Name, skipUnreadable, throwIfCanceled, buffer, threadCap: threads);
        if (rows.Skipped.Count > 0)
        {
            log($"Skipped {rows.Skipped.Count} unreadable image(s) of {rows.RowsSeen} in the {what}: " +
                string.Join("; ", rows.Skipped.Take(5).Select(s => $"row {s.Row}: {s.Reason}")) + (rows.Skipped.Count > 5 ? "; ..." : ""));
        }
        if (rows.Count == 0)
            throw new InvalidOperationException(rows.RowsSeen == 0
                ? $"The {what} is empty: it has no rows."
                : $"The {what} has no readable image: all {rows.RowsSeen} rows were skipped as unreadable.");
        if (image.Kind == ImageColumnKind.Pixels && !buffer.AnyAboveOne)
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
        if (buffer.OnDisk) log($"The {what}'s {rows.Count:N0} images ({(double)rows.Count * 3 * imageSize * imageSize / (1 << 30):F1} GiB of pixels) are memory-mapped from a file in the temporary folder, not held in memory.");
        return (buffer.ToDataset(rows.Labels, imageSize, label.ClassCount), rows.Skipped.Count);
    }
}

using Microsoft.ML;

namespace MLNet.WeightSelection.MLNet;

/// <summary>Images read once from a data view into a <see cref="PixelBuffer"/>: 0-based class indices, and what was skipped.</summary>
/// <param name="Labels">0-based class index (key − 1) per image.</param>
/// <param name="ImageSize">Side of the square images.</param>
/// <param name="RowsSeen">Rows the cursor went through.</param>
/// <param name="Skipped">Rows skipped as unreadable (only with SkipUnreadableImages), with the reason of each.</param>
internal sealed record ImageRows(long[] Labels, int ImageSize, long RowsSeen, IReadOnlyList<(long Row, string Reason)> Skipped)
{
    /// <summary>
    /// Decoding threads at most: each one moves its own cursor through every row, so walking the rows costs more with
    /// every thread (measured on 2 cores only).
    /// </summary>
    public const int MaxWorkers = 8;

    /// <summary>
    /// Below this many rows one thread reads everything: such a read takes under a second even at 224 px (about 2.8 ms
    /// of CPU an image, docs/benchmarks.md 5.1), and for small images starting a thread and a cursor per core would be
    /// a large part of it.
    /// </summary>
    public const int ParallelFromRows = 256;

    /// <summary>Number of images read.</summary>
    public int Count => Labels.Length;

    /// <summary>
    /// Reads <paramref name="data"/> (the training view of <see cref="PixelPipeline.ForTraining"/>) and appends every
    /// image to <paramref name="output"/> in row order (image after image, the R, G and B planes of <c>imageSize²</c>
    /// bytes each). Images are decoded, resized and extracted on one thread per core (<see cref="ParallelRowRead"/>),
    /// or on the calling thread for small data; the buffer, labels and skipped rows are the same either way.
    /// </summary>
    /// <param name="data">Data holding <paramref name="pixelsColumn"/> and the label.</param>
    /// <param name="pixelsColumn">The pixel column to read (<see cref="PixelPipeline.ForTraining"/>).</param>
    /// <param name="label">The label column.</param>
    /// <param name="imageSize">Side of the images.</param>
    /// <param name="imageColumn">The user's image column, for error messages.</param>
    /// <param name="skipUnreadable">Skip and count rows whose image cannot be read, instead of failing.</param>
    /// <param name="throwIfCanceled">Called before every row on one thread, and between blocks of rows (and every 50 ms
    /// while waiting) on several; the workers stop as soon as it throws.</param>
    /// <param name="output">Where the images go.</param>
    /// <param name="workers">Decoding threads, whatever the size of the data; null: one per core (at most
    /// <see cref="MaxWorkers"/> and <paramref name="threadCap"/>), and one for fewer than <see cref="ParallelFromRows"/>
    /// rows. Tests and benchmarks set it to compare the two ways.</param>
    /// <param name="blockRows">Rows per block handed to a worker; null: about 1 MiB of pixels.</param>
    /// <param name="threadCap">At most this many threads when <paramref name="workers"/> is null (the options' <c>Threads</c>).</param>
    /// <exception cref="InvalidDataException">A row's image could not be read (names the row), or a label is missing.</exception>
    public static ImageRows Read(IDataView data, string pixelsColumn, LabelColumn label, int imageSize, string imageColumn, bool skipUnreadable,
        Action throwIfCanceled, PixelBuffer output, int? workers = null, int? blockRows = null, int? threadCap = null)
    {
        int imageBytes = 3 * imageSize * imageSize;
        var into = new Builder(output);
        PixelRowReader Open() => new(data, pixelsColumn, label, imageBytes, imageColumn, skipUnreadable);

        int threads = workers ?? Math.Min(Math.Min(Environment.ProcessorCount, MaxWorkers), threadCap ?? int.MaxValue);
        long firstParallelRow = 0;
        if (workers is null && threads > 1)
        {
            long? count = data.GetRowCount();
            if (count < ParallelFromRows) threads = 1;
            else if (count is null)
            {
                // Unknown size: the first rows on this thread; the workers only start if there are more.
                if (ReadOnOneThread(Open, into, throwIfCanceled, maxRows: ParallelFromRows)) return into.Finish(imageSize);
                firstParallelRow = ParallelFromRows;
            }
        }

        if (threads <= 1)
            ReadOnOneThread(Open, into, throwIfCanceled, maxRows: long.MaxValue);
        else
            ParallelRowRead.Run(Open, imageBytes, threads, blockRows ?? DefaultBlockRows(imageBytes), firstParallelRow, into, throwIfCanceled);
        return into.Finish(imageSize);
    }

    /// <summary>Rows per block: about 1 MiB of pixels, at least 1 and at most 64 rows.</summary>
    public static int DefaultBlockRows(int imageBytes) => Math.Clamp((1 << 20) / imageBytes, 1, 64);

    /// <summary>Reads up to <paramref name="maxRows"/> rows; true when the data ended within them.</summary>
    static bool ReadOnOneThread(Func<PixelRowReader> open, Builder into, Action throwIfCanceled, long maxRows)
    {
        using var reader = open();
        var target = new byte[reader.ImageBytes];
        for (long rows = 0; ; rows++)
        {
            throwIfCanceled();
            if (!reader.MoveNext()) return true;
            if (rows == maxRows) return false;
            into.RowsSeen++;
            if (reader.Read(target, out string? reason) is { } classIndex)
                into.Add(target, classIndex);
            else
                into.Skipped.Add((reader.Position, reason!));
        }
    }

    /// <summary>What a read has collected so far, in row order.</summary>
    internal sealed class Builder(PixelBuffer output)
    {
        readonly List<long> _labels = new();

        /// <summary>Rows gone through.</summary>
        public long RowsSeen { get; set; }

        /// <summary>Rows skipped as unreadable, with the reason.</summary>
        public List<(long Row, string Reason)> Skipped { get; } = new();

        /// <summary>Appends one image and its 0-based class index.</summary>
        public void Add(ReadOnlySpan<byte> image, long classIndex)
        {
            output.Append(image);
            _labels.Add(classIndex);
        }

        /// <summary>The result.</summary>
        public ImageRows Finish(int imageSize) => new(_labels.ToArray(), imageSize, RowsSeen, Skipped);
    }
}

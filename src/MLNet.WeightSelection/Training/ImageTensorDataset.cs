using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// Decoded images cached once as a uint8 tensor <c>[N, 3, H, W]</c> (R, G, B planes, H == W) on the CPU, with int64
/// labels <c>[N]</c> in <c>[0, NumClasses)</c>. Augmentation and normalization run on batches of it, so images are
/// decoded once, not once per epoch. The dataset owns its tensors and disposes them with itself.
/// </summary>
public sealed class ImageTensorDataset : IDisposable
{
    bool _disposed;

    /// <summary>Wraps <paramref name="images"/> and <paramref name="labels"/>, taking ownership of both.</summary>
    /// <param name="images">uint8 <c>[N, 3, H, W]</c> RGB planes with H == W; moved to the CPU if elsewhere.</param>
    /// <param name="labels">int64 <c>[N]</c>, each in <c>[0, numClasses)</c>.</param>
    /// <param name="numClasses">Number of classes (at least 2); a subset may lack some of them.</param>
    /// <exception cref="ArgumentException">A dtype, shape, count or label is not as described above.</exception>
    public ImageTensorDataset(Tensor images, Tensor labels, int numClasses)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (images.dtype != ScalarType.Byte)
            throw new ArgumentException($"Images must be a uint8 (Byte) tensor [N, 3, H, W]; got {images.dtype}.", nameof(images));
        if (images.dim() != 4 || images.shape[1] != 3)
            throw new ArgumentException($"Images must have shape [N, 3, H, W] (RGB planes); got [{string.Join(", ", images.shape)}].", nameof(images));
        if (images.shape[2] != images.shape[3])
            throw new ArgumentException($"Images must be square (H == W); got H = {images.shape[2]}, W = {images.shape[3]}.", nameof(images));
        if (images.shape[2] < 1)
            throw new ArgumentException("Images must be at least 1×1 pixels.", nameof(images));
        if (images.shape[0] == 0)
            throw new ArgumentException("The dataset is empty: images has 0 rows.", nameof(images));
        if (labels.dtype != ScalarType.Int64)
            throw new ArgumentException($"Labels must be an int64 (Int64) tensor [N]; got {labels.dtype}.", nameof(labels));
        if (labels.dim() != 1 || labels.shape[0] != images.shape[0])
            throw new ArgumentException($"Labels must have shape [{images.shape[0]}] (one per image); got [{string.Join(", ", labels.shape)}].", nameof(labels));
        if (numClasses < 2)
            throw new ArgumentException($"A classification dataset needs at least 2 classes; got numClasses = {numClasses}.", nameof(numClasses));

        long[] values;
        using (var cpuLabels = labels.cpu()) values = cpuLabels.data<long>().ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] < 0 || values[i] >= numClasses)
                throw new ArgumentException($"Label of row {i} is {values[i]}, outside [0, {numClasses}).", nameof(labels));
        }

        // Ownership passes only once validation succeeded, so a caller can still dispose rejected tensors.
        Images = ToContiguousCpu(images);
        Labels = ToContiguousCpu(labels);
        NumClasses = numClasses;
        Count = (int)images.shape[0];
        ImageSize = (int)images.shape[2];
        LabelValues = values;
    }

    /// <summary>
    /// Builds a dataset from managed pixels: <paramref name="pixels"/> holds, image after image, the R plane, then
    /// the G plane, then the B plane of <paramref name="imageSize"/>² bytes each (ML.NET's planar layout).
    /// </summary>
    /// <exception cref="ArgumentException">The pixel count is not labels × 3 × imageSize², or a label is out of range.</exception>
    public static ImageTensorDataset FromPixels(byte[] pixels, long[] labels, int imageSize, int numClasses)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        if (imageSize < 1) throw new ArgumentException($"The image size must be at least 1; got {imageSize}.", nameof(imageSize));
        long expected = (long)labels.Length * 3 * imageSize * imageSize;
        if (pixels.LongLength != expected)
            throw new ArgumentException($"Expected {labels.Length} images × 3 planes × {imageSize}² = {expected} bytes; got {pixels.LongLength}.", nameof(pixels));
        var images = tensor(pixels, new long[] { labels.Length, 3, imageSize, imageSize });
        var labelTensor = tensor(labels);
        try
        {
            return new ImageTensorDataset(images, labelTensor, numClasses);
        }
        catch
        {
            images.Dispose();
            labelTensor.Dispose();
            throw;
        }
    }

    /// <summary>Number of images.</summary>
    public int Count { get; }

    /// <summary>Number of classes of the task (the classifier's output count).</summary>
    public int NumClasses { get; }

    /// <summary>Side of the square images in pixels (H, which equals W).</summary>
    public int ImageSize { get; }

    /// <summary>uint8 <c>[N, 3, H, W]</c> RGB images on the CPU (owned by this dataset).</summary>
    public Tensor Images { get; }

    /// <summary>int64 <c>[N]</c> labels on the CPU (owned by this dataset).</summary>
    public Tensor Labels { get; }

    /// <summary>The labels as a managed copy, for bookkeeping without native calls.</summary>
    internal IReadOnlyList<long> LabelValues { get; }

    /// <summary>
    /// Splits into a training and a validation part, stratified by class: each class with at least two images gives
    /// about <paramref name="validationFraction"/> of them (at least one, never all) to validation. Which images go is
    /// drawn from <paramref name="seed"/>; both parts keep the original order. The parts own copies: dispose all three.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="validationFraction"/> is not in (0, 1).</exception>
    /// <exception cref="ArgumentException">No class has two images, so no validation part can be formed.</exception>
    public (ImageTensorDataset Train, ImageTensorDataset Validation) Split(double validationFraction, int seed)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "The validation fraction must be in (0, 1).");

        var rng = new Random(seed);
        var trainRows = new List<long>();
        var validationRows = new List<long>();
        foreach (var rows in Enumerable.Range(0, Count).GroupBy(i => LabelValues[i]).OrderBy(g => g.Key))
        {
            var members = rows.ToArray();
            int take = members.Length < 2 ? 0
                : Math.Clamp((int)Math.Round(validationFraction * members.Length, MidpointRounding.AwayFromZero), 1, members.Length - 1);
            rng.Shuffle(members);
            validationRows.AddRange(members.Take(take).Select(i => (long)i));
            trainRows.AddRange(members.Skip(take).Select(i => (long)i));
        }
        if (validationRows.Count == 0)
            throw new ArgumentException($"Cannot split {Count} images: no class has at least two images.");
        trainRows.Sort();
        validationRows.Sort();
        return (Subset(trainRows), Subset(validationRows));
    }

    /// <summary>A new dataset holding copies of the given rows, in the given order.</summary>
    public ImageTensorDataset Subset(IReadOnlyList<long> rows)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(rows);
        foreach (var r in rows)
            if (r < 0 || r >= Count) throw new ArgumentOutOfRangeException(nameof(rows), r, $"Row {r} is outside [0, {Count}).");
        using var index = tensor(rows.ToArray(), ScalarType.Int64);
        return new ImageTensorDataset(Images.index_select(0, index), Labels.index_select(0, index), NumClasses);
    }

    static Tensor ToContiguousCpu(Tensor t)
    {
        if (t.device_type != DeviceType.CPU)
        {
            var moved = t.cpu();
            t.Dispose();
            t = moved;
        }
        if (t.is_contiguous()) return t;
        var contiguous = t.contiguous();
        t.Dispose();
        return contiguous;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Images.Dispose();
        Labels.Dispose();
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// Decoded images cached once as a uint8 tensor <c>[N, 3, H, W]</c> (R, G, B planes, H == W) on the CPU, with int64
/// labels <c>[N]</c> in <c>[0, NumClasses)</c>. Augmentation and normalization run on batches of it, so images are
/// decoded once, not once per epoch. The pixels may live in memory or in a memory-mapped file (a large data set then
/// costs page cache, not process memory). <see cref="Split"/> and <see cref="Subset"/> give parts that share the
/// pixels instead of copying them; every dataset, whole or part, is disposed on its own, in any order, and the pixels
/// are freed with the last of them.
/// </summary>
public sealed class ImageTensorDataset : IDisposable
{
    /// <summary>The pixels and labels that a dataset and its parts share, freed when the last of them is disposed.</summary>
    sealed class SharedPixels
    {
        int _users = 1;

        public SharedPixels(Tensor images, Tensor labels, long[] labelValues, Action? released)
        {
            Images = images;
            Labels = labels;
            LabelValues = labelValues;
            Released = released;
        }

        public Tensor Images { get; }

        public Tensor Labels { get; }

        public long[] LabelValues { get; }

        Action? Released { get; }

        public SharedPixels AddUser()
        {
            Interlocked.Increment(ref _users);
            return this;
        }

        public void RemoveUser()
        {
            if (Interlocked.Decrement(ref _users) != 0) return;
            Images.Dispose();
            Labels.Dispose();
            Released?.Invoke();
        }
    }

    readonly SharedPixels _pixels;
    readonly long[]? _rows; // the shared rows this dataset holds, in order; null: all of them
    Tensor? _rowIndex, _ownImages, _ownLabels;
    readonly object _rowIndexLock = new();
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
        long[] values;
        using (var cpuLabels = labels.cpu()) values = cpuLabels.data<long>().ToArray();
        CheckLabels(values, numClasses);

        // Ownership passes only once validation succeeded, so a caller can still dispose rejected tensors.
        int count = (int)images.shape[0], imageSize = (int)images.shape[2];
        _pixels = new SharedPixels(ToContiguousCpu(images), ToContiguousCpu(labels), values, released: null);
        NumClasses = numClasses;
        Count = count;
        ImageSize = imageSize;
        LabelValues = values;
    }

    ImageTensorDataset(SharedPixels pixels, long[]? rows, int numClasses, int imageSize)
    {
        _pixels = pixels.AddUser();
        _rows = rows;
        NumClasses = numClasses;
        ImageSize = imageSize;
        Count = rows?.Length ?? pixels.LabelValues.Length;
        LabelValues = rows is null ? pixels.LabelValues : rows.Select(r => pixels.LabelValues[r]).ToArray();
    }

    /// <summary>
    /// A dataset whose pixels are the uint8 file <paramref name="path"/> (image after image, R, G, B planes of
    /// <paramref name="imageSize"/>² bytes), memory-mapped read-only: its pages are the operating system's cache, not
    /// this process's memory. <paramref name="released"/> runs when the last user of the pixels is disposed.
    /// </summary>
    /// <exception cref="ArgumentException">The file's size is not labels × 3 × imageSize², or a label is out of range.</exception>
    internal static ImageTensorDataset FromFile(string path, long[] labels, int imageSize, int numClasses, Action? released = null)
    {
        long expected = (long)labels.Length * 3 * imageSize * imageSize;
        long actual = new FileInfo(path).Length;
        if (actual != expected)
            throw new ArgumentException($"The pixel file '{path}' holds {actual} bytes; {labels.Length} images × 3 planes × {imageSize}² need {expected}.", nameof(path));
        if (labels.Length == 0) throw new ArgumentException("The dataset is empty: 0 labels.", nameof(labels));
        CheckLabels(labels, numClasses);

        Tensor images;
        using (var flat = from_file(path, shared: false, size: expected, dtype: ScalarType.Byte))
            images = flat.view(labels.Length, 3, imageSize, imageSize).DetachFromDisposeScope();
        var pixels = new SharedPixels(images, tensor(labels).DetachFromDisposeScope(), labels, released);
        var whole = new ImageTensorDataset(pixels, rows: null, numClasses, imageSize);
        pixels.RemoveUser(); // the dataset above is now its only user
        return whole;
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

    /// <summary>
    /// uint8 <c>[N, 3, H, W]</c> RGB images on the CPU (owned by this dataset). A part made by <see cref="Split"/> or
    /// <see cref="Subset"/> copies its rows out of the shared pixels on first use; training reads batches instead
    /// (<see cref="Batch"/>, <see cref="Range"/>), which never copy the whole part.
    /// </summary>
    public Tensor Images
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_rows is null) return _pixels.Images;
            return _ownImages ??= _pixels.Images.index_select(0, RowIndex).DetachFromDisposeScope();
        }
    }

    /// <summary>int64 <c>[N]</c> labels on the CPU (owned by this dataset).</summary>
    public Tensor Labels
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_rows is null) return _pixels.Labels;
            return _ownLabels ??= _pixels.Labels.index_select(0, RowIndex).DetachFromDisposeScope();
        }
    }

    /// <summary>
    /// The images and labels of rows <paramref name="rows"/> (int64, this dataset's row numbers) as new tensors;
    /// the caller disposes them (a dispose scope does).
    /// </summary>
    public (Tensor Images, Tensor Labels) Batch(Tensor rows)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(rows);
        if (_rows is null) return (_pixels.Images.index_select(0, rows), _pixels.Labels.index_select(0, rows));
        using var shared = RowIndex.index_select(0, rows);
        return (_pixels.Images.index_select(0, shared), _pixels.Labels.index_select(0, shared));
    }

    /// <summary>
    /// The images and labels of rows <paramref name="start"/> to <paramref name="start"/> + <paramref name="length"/>;
    /// views without a copy for a whole dataset, gathered for a part. The caller disposes them.
    /// </summary>
    public (Tensor Images, Tensor Labels) Range(long start, long length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (start < 0 || length < 0 || start + length > Count)
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows {start} to {start + length} are outside [0, {Count}].");
        if (_rows is null) return (_pixels.Images.narrow(0, start, length), _pixels.Labels.narrow(0, start, length));
        using var shared = RowIndex.narrow(0, start, length);
        return (_pixels.Images.index_select(0, shared), _pixels.Labels.index_select(0, shared));
    }

    // Made on first use, which may be inside a caller's dispose scope (the dataset owns it, not the scope) or on
    // a prefetching thread (BatchPrefetcher), hence the lock.
    Tensor RowIndex
    {
        get
        {
            lock (_rowIndexLock) return _rowIndex ??= tensor(_rows!, ScalarType.Int64).DetachFromDisposeScope();
        }
    }

    /// <summary>The labels as a managed copy, for bookkeeping without native calls.</summary>
    internal IReadOnlyList<long> LabelValues { get; }

    /// <summary>
    /// Splits into a training and a validation part, stratified by class: each class with at least two images gives
    /// about <paramref name="validationFraction"/> of them (at least one, never all) to validation. Which images go is
    /// drawn from <paramref name="seed"/>; both parts keep the original order. The parts share this dataset's pixels
    /// without copying them; dispose all three, in any order.
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

    /// <summary>
    /// A new dataset of the given rows, in the given order, sharing this dataset's pixels (no copy); dispose it as
    /// well as this one, in any order.
    /// </summary>
    public ImageTensorDataset Subset(IReadOnlyList<long> rows)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0) throw new ArgumentException("A subset needs at least one row.", nameof(rows));
        var shared = new long[rows.Count];
        for (int i = 0; i < shared.Length; i++)
        {
            long r = rows[i];
            if (r < 0 || r >= Count) throw new ArgumentOutOfRangeException(nameof(rows), r, $"Row {r} is outside [0, {Count}).");
            shared[i] = _rows is null ? r : _rows[r];
        }
        return new ImageTensorDataset(_pixels, shared, NumClasses, ImageSize);
    }

    /// <summary>At least 2 classes, and every label in [0, numClasses): the checks both constructors make.</summary>
    static void CheckLabels(long[] labels, int numClasses)
    {
        if (numClasses < 2)
            throw new ArgumentException($"A classification dataset needs at least 2 classes; got numClasses = {numClasses}.", nameof(numClasses));
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] < 0 || labels[i] >= numClasses)
                throw new ArgumentException($"Label of row {i} is {labels[i]}, outside [0, {numClasses}).", "labels");
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
        _rowIndex?.Dispose();
        _ownImages?.Dispose();
        _ownLabels?.Dispose();
        _pixels.RemoveUser();
    }
}

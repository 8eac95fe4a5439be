using static TorchSharp.torch;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// Gathers an epoch's batches from a dataset one step ahead, on a thread-pool thread, so that reading the next
/// batch's rows (page faults of a memory-mapped pixel file, then a copy) overlaps the current training step.
/// Augmentation stays on the caller's thread, which keeps its random draws in step order; the batches themselves do
/// not depend on the thread that gathered them.
/// </summary>
/// <remarks>
/// At most one batch is in flight. The tensors <see cref="Next"/> returns belong to the caller and are in no dispose
/// scope. <see cref="Dispose"/> waits for a batch still being gathered and frees it, so a step that throws leaks
/// nothing; the dataset and the order must outlive this object.
/// </remarks>
internal sealed class BatchPrefetcher : IDisposable
{
    /// <summary>
    /// Whether training gathers batches ahead: off unless the environment variable <c>WS_PREFETCH_BATCHES</c> is 1.
    /// On 2 cores it did not pay (bench <c>data-scale</c> with <c>:noprefetch</c>, docs/benchmarks.md 5.2): batches
    /// took 0.4–2.4% of the step time without it, from the page cache or from the disk, and training ran 0–20% slower
    /// with it, the gathering thread competing with the step's own threads. A pixel cache on a slow disk may differ.
    /// </summary>
    internal static bool Enabled { get; set; } = Environment.GetEnvironmentVariable("WS_PREFETCH_BATCHES") == "1";

    readonly ImageTensorDataset _data;
    readonly Tensor _order;
    readonly int _batchSize;
    readonly int _steps;
    readonly bool _ahead;
    Task<(Tensor Images, Tensor Labels)>? _pending;
    int _next;

    /// <param name="data">The rows' dataset.</param>
    /// <param name="order">int64 row numbers of <paramref name="data"/> in the epoch's order; step k reads
    /// <paramref name="batchSize"/> of them from k × <paramref name="batchSize"/> (fewer at the end).</param>
    /// <param name="batchSize">Rows per step.</param>
    /// <param name="steps">Steps in the epoch; none is read past it.</param>
    /// <param name="ahead">Gather the next batch on another thread; false reads each batch when asked.</param>
    public BatchPrefetcher(ImageTensorDataset data, Tensor order, int batchSize, int steps, bool ahead)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        if ((long)(steps - 1) * batchSize >= order.shape[0] && steps > 0)
            throw new ArgumentOutOfRangeException(nameof(steps), $"{steps} steps of {batchSize} need more than the {order.shape[0]} rows of the order.");
        _data = data;
        _order = order;
        _batchSize = batchSize;
        _steps = steps;
        _ahead = ahead;
    }

    /// <summary>Rows in step <paramref name="step"/> (0-based).</summary>
    public int Length(int step) => (int)Math.Min(_batchSize, _order.shape[0] - (long)step * _batchSize);

    /// <summary>
    /// The next step's images (uint8 <c>[B, 3, H, W]</c>) and labels (int64 <c>[B]</c>); the caller disposes both.
    /// An error gathering a batch is thrown here, on the step that needed it.
    /// </summary>
    /// <exception cref="InvalidOperationException">All steps were read.</exception>
    public (Tensor Images, Tensor Labels) Next()
    {
        if (_next >= _steps) throw new InvalidOperationException($"All {_steps} batches of the epoch were read.");
        int step = _next++;
        var pending = _pending;
        _pending = null;
        var batch = pending is null ? Gather(step) : pending.GetAwaiter().GetResult();
        if (_ahead && _next < _steps)
        {
            int following = _next;
            _pending = Task.Run(() => Gather(following));
        }
        return batch;
    }

    (Tensor Images, Tensor Labels) Gather(int step)
    {
        using var rows = _order.narrow(0, (long)step * _batchSize, Length(step));
        return _data.Batch(rows);
    }

    public void Dispose()
    {
        var pending = _pending;
        _pending = null;
        if (pending is null) return;
        try
        {
            var (images, labels) = pending.GetAwaiter().GetResult();
            images.Dispose();
            labels.Dispose();
        }
        catch (Exception)
        {
            // The step that would have read this batch never ran, so its error has nobody to tell.
        }
    }
}

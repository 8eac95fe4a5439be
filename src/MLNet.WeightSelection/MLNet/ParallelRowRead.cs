using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace MLNet.WeightSelection.MLNet;

/// <summary>
/// Reads rows on several threads and hands them to <see cref="ImageRows.Builder"/> in row order. The rows are cut into
/// blocks; worker k reads blocks k, k + n, k + 2n, ... through a cursor of its own, moving past the other workers' rows
/// without reading them (nothing is decoded until a getter is called), so every row keeps its position and its error
/// message names the same row as on one thread. The calling thread takes the blocks in order. A worker starts a block
/// only within <see cref="BlocksPerWorker"/>·n blocks of the next one to be taken, so memory stays bounded however
/// many rows there are. A block stops at its first error; the error is thrown when its block's turn comes, after the
/// rows before it, so the first error in row order is the one thrown, as on one thread.
/// </summary>
/// <remarks>
/// Why not ML.NET's own <c>GetRowCursorSet(columns, n)</c> (checked on ML.NET 6.0.0): its cursors do throw a bad image's
/// exception as it is and go on with the next row (only <c>GetRowCursor</c>, which consolidates such a set, wraps the
/// first one and stops), but over a source of one cursor it deals out batches of 128 rows to whichever cursor asks
/// first, each cursor's <c>Position</c> counts its own rows only, and the row IDs are not row numbers (they keep the
/// source's numbers through SkipRows, filters and ShuffleRows). Neither the order nor the row numbers can be recovered.
/// This way needs the data view to give every cursor the same rows in the same order, as ML.NET's loaders and
/// transforms do (ShuffleRows too, with its seed); Fit reads the data several times anyway.
/// </remarks>
internal sealed class ParallelRowRead
{
    /// <summary>Blocks each worker may be ahead of the calling thread.</summary>
    public const int BlocksPerWorker = 4;

    sealed class Block(long index, int rows)
    {
        public long Index { get; } = index;
        public byte[]? Pixels { get; set; }
        public long[] Labels { get; } = new long[rows];
        public int Images { get; set; }
        public int Rows { get; set; }
        public List<(long Row, string Reason)> Skipped { get; } = new();
        public bool Ended { get; set; }
        public ExceptionDispatchInfo? Error { get; set; }
    }

    readonly Func<PixelRowReader> _open;
    readonly int _imageBytes;
    readonly int _workers;
    readonly int _blockRows;
    readonly long _firstRow;
    readonly object _gate = new();
    readonly Block?[] _ready;
    readonly ConcurrentBag<byte[]> _spare = new();
    long _next;
    bool _stop;

    ParallelRowRead(Func<PixelRowReader> open, int imageBytes, int workers, int blockRows, long firstRow)
    {
        _open = open;
        _imageBytes = imageBytes;
        _workers = workers;
        _blockRows = blockRows;
        _firstRow = firstRow;
        _ready = new Block?[BlocksPerWorker * workers];
    }

    /// <summary>Reads the rows from <paramref name="firstRow"/> on into <paramref name="into"/>.</summary>
    /// <param name="open">Opens a reader positioned before the first row.</param>
    /// <param name="imageBytes">Bytes per image.</param>
    /// <param name="workers">Threads reading (2 or more).</param>
    /// <param name="blockRows">Rows per block.</param>
    /// <param name="firstRow">Rows before it were read already.</param>
    /// <param name="into">Where the rows go, in order.</param>
    /// <param name="throwIfCanceled">Called between blocks and every 50 ms while waiting for one.</param>
    public static void Run(Func<PixelRowReader> open, int imageBytes, int workers, int blockRows, long firstRow, ImageRows.Builder into, Action throwIfCanceled)
    {
        if (workers < 2) throw new ArgumentOutOfRangeException(nameof(workers), workers, "Reading in parallel needs 2 workers or more.");
        if (blockRows < 1) throw new ArgumentOutOfRangeException(nameof(blockRows), blockRows, "A block has at least 1 row.");
        new ParallelRowRead(open, imageBytes, workers, blockRows, firstRow).Run(into, throwIfCanceled);
    }

    void Run(ImageRows.Builder into, Action throwIfCanceled)
    {
        var readers = new PixelRowReader[_workers];
        var threads = new Thread[_workers];
        try
        {
            // Cursors are made here and used on the workers, as ML.NET hands out the cursors of a cursor set.
            for (int k = 0; k < _workers; k++) readers[k] = _open();
            for (int k = 0; k < _workers; k++)
            {
                var reader = readers[k];
                int worker = k;
                threads[k] = new Thread(() => Work(worker, reader)) { IsBackground = true, Name = $"ws-read-{k}" };
                threads[k].Start();
            }
            for (long index = 0; ; index++)
            {
                var block = Take(index, throwIfCanceled);
                for (int i = 0; i < block.Images; i++)
                    into.Add(block.Pixels.AsSpan(i * _imageBytes, _imageBytes), block.Labels[i]);
                into.Skipped.AddRange(block.Skipped);
                into.RowsSeen += block.Rows;
                if (block.Pixels is not null) _spare.Add(block.Pixels);
                block.Error?.Throw();
                if (block.Ended) return;
            }
        }
        finally
        {
            lock (_gate)
            {
                _stop = true;
                Monitor.PulseAll(_gate);
            }
            foreach (var thread in threads) thread?.Join();
            foreach (var reader in readers) reader?.Dispose();
        }
    }

    Block Take(long index, Action throwIfCanceled)
    {
        int slot = (int)(index % _ready.Length);
        while (true)
        {
            throwIfCanceled();
            lock (_gate)
            {
                if (_ready[slot] is { } block && block.Index == index)
                {
                    _ready[slot] = null;
                    _next = index + 1;
                    Monitor.PulseAll(_gate);
                    return block;
                }
                Monitor.Wait(_gate, 50);
            }
        }
    }

    void Work(int worker, PixelRowReader reader)
    {
        long at = -1; // the row the cursor is on
        for (long index = worker; ; index += _workers)
        {
            lock (_gate)
            {
                while (!_stop && index >= _next + _ready.Length) Monitor.Wait(_gate);
                if (_stop) return;
            }
            var block = new Block(index, _blockRows);
            try
            {
                var pixels = block.Pixels = _spare.TryTake(out var spare) ? spare : new byte[_blockRows * _imageBytes];
                long first = _firstRow + index * _blockRows;
                while (at < first - 1 && !block.Ended)
                {
                    if (reader.MoveNext()) at++;
                    else block.Ended = true;
                }
                while (block.Rows < _blockRows && !block.Ended && !Volatile.Read(ref _stop))
                {
                    if (!reader.MoveNext())
                    {
                        block.Ended = true;
                        break;
                    }
                    at++;
                    block.Rows++;
                    if (reader.Read(pixels.AsSpan(block.Images * _imageBytes, _imageBytes), out string? reason) is { } classIndex)
                        block.Labels[block.Images++] = classIndex;
                    else
                        block.Skipped.Add((reader.Position, reason!));
                }
            }
            catch (Exception e)
            {
                block.Error = ExceptionDispatchInfo.Capture(e);
            }
            lock (_gate)
            {
                _ready[index % _ready.Length] = block;
                Monitor.PulseAll(_gate);
            }
            if (block.Ended || block.Error is not null) return;
        }
    }
}

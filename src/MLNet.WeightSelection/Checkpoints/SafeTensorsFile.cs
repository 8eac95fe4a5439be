using System.IO.MemoryMappedFiles;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Checkpoints;

/// <summary>
/// A safetensors file opened read-only and memory-mapped. The header is read and validated at
/// <see cref="Open"/>; tensor data is read only when a tensor is asked for, and
/// <see cref="ReadSelected"/> copies only the selected rows out of the mapping. Reads may run on several threads
/// at once.
/// </summary>
public sealed unsafe class SafeTensorsFile : ITensorSource
{
    // Rows read per block when axes after the first are also selected: bounds the temporary buffer (and keeps it in cache).
    const long BlockBytes = 1L << 20;

    readonly FileStream _stream;
    readonly MemoryMappedFile _map;
    readonly MemoryMappedViewAccessor _view;
    readonly SafeTensorsHeader _header;
    int _disposed;

    SafeTensorsFile(string path, FileStream stream, MemoryMappedFile map, MemoryMappedViewAccessor view, SafeTensorsHeader header)
    {
        Origin = path;
        _stream = stream;
        _map = map;
        _view = view;
        _header = header;
    }

    /// <summary>
    /// Opens <paramref name="path"/>, validates its header (lengths, JSON, dtypes, shapes, and offsets that tile the data section exactly) and maps
    /// it. No tensor data is read yet.
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is truncated, corrupt or not a safetensors file; the message names the file and the problem.</exception>
    public static SafeTensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"No safetensors file at '{full}'.", full);
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors data is little-endian; this reader needs a little-endian machine.");

        var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read);
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            int headerLength;
            try
            {
                headerLength = SafeTensorsHeader.ReadLength(stream, full);
            }
            catch (EndOfStreamException e)
            {
                throw SafeTensorsHeader.Invalid(full, "the file ends inside its header", e);
            }
            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            var header = ParseHeader(view, headerLength, stream.Length, full);
            var file = new SafeTensorsFile(full, stream, map, view, header);
            file.WithData(data => file.RandomAccessHinted = MemoryAdvice.RandomAccess(data - header.DataStart, stream.Length));
            return file;
        }
        catch
        {
            view?.Dispose();
            map?.Dispose();
            stream.Dispose();
            throw;
        }
    }

    // Parses the header where it lies in the mapping: no copy of it is made, and its pages are handed back afterwards.
    static SafeTensorsHeader ParseHeader(MemoryMappedViewAccessor view, int headerLength, long fileLength, string file)
    {
        var handle = view.SafeMemoryMappedViewHandle;
        byte* pointer = null;
        handle.AcquirePointer(ref pointer);
        try
        {
            byte* json = pointer + view.PointerOffset + 8;
            try
            {
                long dataStart = 8L + headerLength;
                return SafeTensorsHeaderParser.Parse(new ReadOnlySpan<byte>(json, headerLength), file, dataStart, fileLength - dataStart);
            }
            finally
            {
                MemoryAdvice.Release(json, headerLength);
            }
        }
        finally
        {
            handle.ReleasePointer();
        }
    }

    /// <summary>True when the kernel took the hint that this mapping is read at random (selected rows).</summary>
    internal bool RandomAccessHinted { get; private set; }

    /// <summary>The full path of the file.</summary>
    public string Origin { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> Keys => _header.Names;

    /// <summary>The string map stored under <c>__metadata__</c> (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata => _header.Metadata;

    /// <inheritdoc />
    public bool Contains(string key) => _header.TryFind(key, out _);

    /// <inheritdoc />
    public TensorInfo GetInfo(string key)
    {
        var entry = Entry(key);
        return new TensorInfo(entry.Name, entry.DType, _header.Shape(entry));
    }

    /// <inheritdoc />
    public Tensor Read(string key, ScalarType? dtype = null)
    {
        var entry = Entry(key);
        using var scope = NewDisposeScope();
        var result = empty(_header.Shape(entry), entry.DType);
        WithData(data =>
        {
            MemoryAdvice.WillNeed(data + entry.Begin, entry.ByteLength);
            TensorBytes.CopyFrom(result, data + entry.Begin);
            MemoryAdvice.Release(data + entry.Begin, entry.ByteLength);
        });
        return Convert(result, dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Reads only the selected elements. Rows of axis 0 are read one contiguous run at a time with positioned reads;
    /// when other axes are selected too, a block of rows is read into one reused buffer and the selected elements are
    /// gathered from it, so the memory used is about the size of the result, whatever the size of the stored tensor.
    /// </summary>
    /// <exception cref="ArgumentException">The index lists do not match the tensor's axes, or an index is out of range.</exception>
    public Tensor ReadSelected(string key, IReadOnlyList<long[]?> indices, ScalarType? dtype = null)
    {
        var entry = Entry(key);
        var shape = _header.Shape(entry);
        var selectedShape = IndexSelection.Validate(Origin, key, shape, indices);
        if (shape.Length == 0) return Read(key, dtype);

        using var scope = NewDisposeScope();
        var result = empty(selectedShape, entry.DType);
        AdviseHugePages(result);
        long rowBytes = shape[0] == 0 ? 0 : entry.ByteLength / shape[0];
        long[]? rows = indices[0];
        long rowCount = selectedShape[0];
        long tensorOffset = _header.DataStart + entry.Begin;
        var gather = IndexSelection.InnerElementOffsets(shape, indices);
        if (gather is null)
        {
            CopyRows(tensorOffset, rowBytes, rows, 0, rowCount, result);
            return Convert(result, dtype).MoveToOuterDisposeScope();
        }

        if (rowBytes == 0 || gather.Length == 0) return Convert(result, dtype).MoveToOuterDisposeScope(); // no elements
        int elementSize = (int)result.ElementSize;
        long outputRowBytes = gather.Length * (long)elementSize;
        long blockRows = Math.Max(1, Math.Min(rowCount, BlockBytes / Math.Max(1, rowBytes)));
        if (blockRows * rowBytes > int.MaxValue || blockRows * outputRowBytes > int.MaxValue)
            throw new NotSupportedException($"{Origin}: a row of '{key}' is over 2 GiB; selected reads of it are not supported.");
        // One block buffer from the shared pool: its pages stay mapped from one tensor to the next (a page fault
        // costs about 10 µs on the project's VM, more than reading the page), and rows read but not kept never
        // reach the result.
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)(blockRows * rowBytes));
        try
        {
            for (long start = 0; start < rowCount; start += blockRows)
            {
                long n = Math.Min(blockRows, rowCount - start);
                var block = buffer.AsSpan(0, (int)(n * rowBytes));
                CopyRows(tensorOffset, rowBytes, rows, start, n, block);
                using var outputRows = result.narrow(0, start, n);
                Gather(block, (int)rowBytes, outputRows.bytes, (int)outputRowBytes, gather, elementSize);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        return Convert(result, dtype).MoveToOuterDisposeScope();
    }

    // Filling a fresh multi-megabyte result page by page is mostly page faults (about 10 µs each on the project's VM).
    static void AdviseHugePages(Tensor result)
    {
        long bytes = TensorBytes.ByteCount(result);
        if (bytes > int.MaxValue) return; // one span cannot cover it; MemoryAdvice.HugePages skips small ones
        fixed (byte* start = result.bytes) MemoryAdvice.HugePages(start, bytes);
    }

    // Copies the elements at offsets (element units, within one source row) of each source row into the output rows.
    static void Gather(ReadOnlySpan<byte> source, int sourceRowBytes, Span<byte> output, int outputRowBytes, long[] offsets, int elementSize)
    {
        int rowCount = source.Length / sourceRowBytes;
        for (int r = 0; r < rowCount; r++)
        {
            var from = source.Slice(r * sourceRowBytes, sourceRowBytes);
            var to = output.Slice(r * outputRowBytes, outputRowBytes);
            switch (elementSize)
            {
                case 4: GatherElements(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(from), System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(to), offsets); break;
                case 2: GatherElements(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(from), System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(to), offsets); break;
                case 8: GatherElements(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(from), System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(to), offsets); break;
                case 1: GatherElements(from, to, offsets); break;
                default: throw new NotSupportedException($"Elements of {elementSize} bytes.");
            }
        }
    }

    static void GatherElements<T>(ReadOnlySpan<T> from, Span<T> to, long[] offsets)
    {
        for (int i = 0; i < offsets.Length; i++) to[i] = from[(int)offsets[i]];
    }

    // Reads selected rows [first, first + count) of the selection (all rows when rows is null) into target (a tensor's
    // bytes or a buffer), merging consecutive source rows into one read. Rows are read with positioned reads (pread),
    // not through the mapping: the kernel maps file pages in large folios (about 1 MiB around every touched row here),
    // so reading scattered rows through the mapping would make the process's resident peak the rows touched, not the result.
    void CopyRows(long tensorOffset, long rowBytes, long[]? rows, long first, long count, Span<byte> target)
    {
        var file = _stream.SafeFileHandle; // once: the getter re-seeks the stream on every call
        long i = 0;
        while (i < count)
        {
            long sourceRow = rows is null ? first + i : rows[first + i];
            long run = 1;
            if (rows is null) run = count - i;
            else while (i + run < count && rows[first + i + run] == sourceRow + run) run++;
            TensorBytes.ReadAt(target.Slice((int)(i * rowBytes), (int)(run * rowBytes)), file, tensorOffset + sourceRow * rowBytes, Origin);
            i += run;
        }
    }

    // Whole selected rows straight into a tensor; over 2 GiB, one slice of rows at a time (a span cannot cover it).
    void CopyRows(long tensorOffset, long rowBytes, long[]? rows, long first, long count, Tensor destination)
    {
        long rowsPerSlice = Math.Max(1, int.MaxValue / Math.Max(1, rowBytes));
        for (long start = 0; start < count; start += rowsPerSlice)
        {
            long n = Math.Min(rowsPerSlice, count - start);
            using var slice = destination.narrow(0, start, n);
            CopyRows(tensorOffset, rowBytes, rows, first + start, n, slice.bytes);
        }
    }

    static Tensor Convert(Tensor t, ScalarType? dtype) =>
        dtype is { } d && DType.IsFloatingPoint(t.dtype) && t.dtype != d ? t.to_type(d) : t;

    SafeTensorsEntry Entry(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _header.TryFind(key, out var entry) ? entry
            : throw new KeyNotFoundException($"{Origin}: no tensor named '{key}'.");
    }

    // Holds a reference on the mapping while reading, so a concurrent Dispose cannot unmap it mid-copy.
    void WithData(DataReader read)
    {
        var handle = _view.SafeMemoryMappedViewHandle;
        byte* pointer = null;
        handle.AcquirePointer(ref pointer);
        try
        {
            read(pointer + _view.PointerOffset + _header.DataStart);
        }
        finally
        {
            handle.ReleasePointer();
        }
    }

    delegate void DataReader(byte* data);

    /// <summary>Unmaps and closes the file. Tensors already read stay valid.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _view.Dispose();
        _map.Dispose();
        _stream.Dispose();
    }
}

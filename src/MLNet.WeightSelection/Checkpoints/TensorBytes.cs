using static TorchSharp.torch;

namespace MLNet.WeightSelection.Checkpoints;

/// <summary>
/// Raw byte copies between contiguous CPU tensors and memory or streams. TorchSharp exposes a tensor's bytes as a
/// span (at most 2 GB), so larger tensors are handled in slices along the first axis.
/// </summary>
internal static unsafe class TensorBytes
{
    const long SliceLimit = 1L << 30;

    /// <summary>Number of bytes of <paramref name="t"/>'s elements.</summary>
    public static long ByteCount(Tensor t) => t.NumberOfElements * t.ElementSize;

    /// <summary>Fills contiguous CPU tensor <paramref name="destination"/> from <paramref name="source"/>.</summary>
    public static void CopyFrom(Tensor destination, byte* source)
    {
        long count = ByteCount(destination);
        if (count == 0) return;
        if (count <= SliceLimit)
        {
            new ReadOnlySpan<byte>(source, (int)count).CopyTo(destination.bytes);
            return;
        }
        ForEachSlice(destination, (slice, offset) => CopyFrom(slice, source + offset));
    }

    /// <summary>Writes the elements of contiguous CPU tensor <paramref name="source"/> to <paramref name="stream"/>.</summary>
    public static void WriteTo(Tensor source, Stream stream)
    {
        long count = ByteCount(source);
        if (count == 0) return;
        if (count <= SliceLimit)
        {
            stream.Write(source.bytes);
            return;
        }
        ForEachSlice(source, (slice, _) => WriteTo(slice, stream));
    }

    /// <summary>Fills contiguous CPU tensor <paramref name="destination"/> from <paramref name="stream"/>.</summary>
    /// <exception cref="EndOfStreamException">The stream ends first.</exception>
    public static void ReadFrom(Tensor destination, Stream stream)
    {
        long count = ByteCount(destination);
        if (count == 0) return;
        if (count <= SliceLimit)
        {
            stream.ReadExactly(destination.bytes);
            return;
        }
        ForEachSlice(destination, (slice, _) => ReadFrom(slice, stream));
    }

    /// <summary>
    /// Fills <paramref name="span"/> from <paramref name="file"/> at byte <paramref name="offset"/> with positioned
    /// reads, which map nothing into the process.
    /// </summary>
    /// <exception cref="EndOfStreamException">The file ends first.</exception>
    public static void ReadAt(Span<byte> span, Microsoft.Win32.SafeHandles.SafeFileHandle file, long offset, string origin)
    {
        int done = 0;
        while (done < span.Length)
        {
            int read = RandomAccess.Read(file, span[done..], offset + done);
            if (read == 0) throw new EndOfStreamException($"{origin}: the file ends at byte {offset + done}, inside a tensor.");
            done += read;
        }
    }

    /// <summary>A CPU tensor with contiguous storage holding <paramref name="t"/>'s values, and whether it is a new one.</summary>
    public static (Tensor Tensor, bool Owned) ContiguousCpu(Tensor t)
    {
        if (t.device_type == TorchSharp.DeviceType.CPU && t.is_contiguous()) return (t, false);
        using var cpu = t.device_type == TorchSharp.DeviceType.CPU ? t.alias() : t.cpu();
        return (cpu.contiguous(), true);
    }

    // Splits a large contiguous tensor along axis 0 into contiguous slices of at most SliceLimit bytes.
    static void ForEachSlice(Tensor t, Action<Tensor, long> action)
    {
        long rows = t.shape[0];
        long rowBytes = ByteCount(t) / rows;
        long rowsPerSlice = Math.Max(1, SliceLimit / rowBytes);
        for (long start = 0; start < rows; start += rowsPerSlice)
        {
            long n = Math.Min(rowsPerSlice, rows - start);
            using var slice = t.narrow(0, start, n);
            action(slice, start * rowBytes);
        }
    }
}

using System.Text;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Checkpoints;

/// <summary>
/// TorchSharp's own weight format, the one <c>Module.save(path)</c> writes and <c>Module.load(path)</c> reads, as a
/// <see cref="StateDict"/>: no module is needed to read or write it.
/// </summary>
/// <remarks>
/// Layout: the entry count (LEB128), then per entry the key (a .NET <see cref="BinaryWriter"/> string: 7-bit
/// encoded UTF-8 byte length, then the bytes), the element type as TorchSharp's <see cref="ScalarType"/> number
/// (LEB128), the rank and each dimension (LEB128), and the raw little-endian element bytes.
/// </remarks>
public static class TorchSharpCheckpoint
{
    const int MaxRank = 64;
    const int MaxKeyBytes = 1 << 16;
    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads every tensor of the TorchSharp weight file <paramref name="path"/>, in stored order.</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is truncated or not in this format; the message names the file, the entry and the problem.</exception>
    public static StateDict Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"No TorchSharp weight file at '{full}'.", full);

        using var stream = new BufferedStream(new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read), 1 << 16);
        long length = stream.Length;
        var result = new StateDict(full);
        try
        {
            long count = ReadLeb128(stream, full, "the entry count");
            // Every entry takes at least three bytes (key length, dtype, rank): a larger count cannot be genuine.
            if (count > (length - stream.Position) / 3)
                throw Invalid(full, $"it claims {count} entries, more than its {length} bytes can hold");
            for (long i = 0; i < count; i++)
            {
                string key = ReadKey(stream, full, i);
                string where = $"entry {i} ('{key}')";
                long code = ReadLeb128(stream, full, $"the element type of {where}");
                var dtype = (ScalarType)code;
                if (code > int.MaxValue || !DType.IsSupported(dtype))
                    throw Invalid(full, $"{where} has element type code {code}, not one of {string.Join(", ", DType.Supported.Select(t => $"{t} ({(int)t})"))}");
                long rank = ReadLeb128(stream, full, $"the rank of {where}");
                if (rank > MaxRank) throw Invalid(full, $"{where} has rank {rank}, more than {MaxRank}");
                var shape = new long[rank];
                long bytes = DType.ElementSize(dtype);
                for (int axis = 0; axis < rank; axis++)
                {
                    shape[axis] = ReadLeb128(stream, full, $"dimension {axis} of {where}");
                    try { bytes = checked(bytes * shape[axis]); }
                    catch (OverflowException) { throw Invalid(full, $"{where} has a shape whose byte size overflows"); }
                }
                if (bytes > length - stream.Position)
                    throw Invalid(full, $"{where} ({dtype} [{string.Join(", ", shape)}]) needs {bytes} bytes but only {length - stream.Position} remain (truncated file?)");
                if (result.Contains(key)) throw Invalid(full, $"key '{key}' appears twice");
                var t = empty(shape, dtype);
                result.Add(key, t);
                TensorBytes.ReadFrom(t, stream);
            }
            return result;
        }
        catch (EndOfStreamException e)
        {
            result.Dispose();
            throw Invalid(full, "the file ends in the middle of an entry (truncated file?)", e);
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> in TorchSharp's weight format, so <c>Module.load(path)</c> of a module with
    /// the same state dict keys, types and shapes restores them. Written to a temporary name, then renamed.
    /// </summary>
    /// <exception cref="ArgumentException">A key is repeated or empty, or an element type is not supported.</exception>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, t) in list)
        {
            if (string.IsNullOrEmpty(key)) throw new ArgumentException("A tensor has an empty key.", nameof(tensors));
            if (!seen.Add(key)) throw new ArgumentException($"Key '{key}' appears more than once.", nameof(tensors));
            ArgumentNullException.ThrowIfNull(t, key);
            if (!DType.IsSupported(t.dtype))
                throw new ArgumentException($"Tensor '{key}' has element type {t.dtype}; supported: {string.Join(", ", DType.Supported)}.", nameof(tensors));
        }

        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, new UTF8Encoding(false), leaveOpen: true);
            WriteLeb128(writer, list.Count);
            foreach (var (key, value) in list)
            {
                writer.Write(key);
                WriteLeb128(writer, (int)value.dtype);
                WriteLeb128(writer, value.shape.Length);
                foreach (long d in value.shape) WriteLeb128(writer, d);
                writer.Flush();
                var (t, owned) = TensorBytes.ContiguousCpu(value);
                try { TensorBytes.WriteTo(t, stream); }
                finally { if (owned) t.Dispose(); }
            }
            writer.Flush();
        });
    }

    static string ReadKey(Stream stream, string file, long index)
    {
        long length = 0;
        for (int shift = 0; ; shift += 7)
        {
            if (shift > 28) throw Invalid(file, $"the key length of entry {index} is malformed");
            int b = stream.ReadByte();
            if (b < 0) throw new EndOfStreamException();
            length |= (long)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) break;
        }
        if (length > MaxKeyBytes) throw Invalid(file, $"entry {index} has a key of {length} bytes, more than {MaxKeyBytes}");
        var bytes = new byte[length];
        stream.ReadExactly(bytes);
        try { return StrictUtf8.GetString(bytes); }
        catch (DecoderFallbackException e) { throw Invalid(file, $"the key of entry {index} is not valid UTF-8", e); }
    }

    static long ReadLeb128(Stream stream, string file, string what)
    {
        long result = 0;
        for (int shift = 0; ; shift += 7)
        {
            int b = stream.ReadByte();
            if (b < 0) throw new EndOfStreamException();
            long bits = b & 0x7f;
            if (shift > 56 && (shift > 63 || bits >> (63 - shift) != 0))
                throw Invalid(file, $"{what} does not fit in 63 bits");
            result |= bits << shift;
            if ((b & 0x80) == 0) return result;
        }
    }

    static void WriteLeb128(BinaryWriter writer, long value)
    {
        do
        {
            byte b = (byte)(value & 0x7f);
            value >>= 7;
            writer.Write(value == 0 ? b : (byte)(b | 0x80));
        } while (value != 0);
    }

    static InvalidDataException Invalid(string file, string problem, Exception? inner = null) =>
        new($"Cannot read TorchSharp weight file '{file}': {problem}.", inner);
}

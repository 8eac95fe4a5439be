using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Checkpoints;

/// <summary>
/// Writes safetensors files that Python's <c>safetensors</c> and timm load as they are: an 8-byte little-endian
/// header length, a JSON header padded with spaces to a multiple of 8 bytes, then the raw little-endian data.
/// Files are written to a temporary file in the same folder and renamed, so a failed write leaves no file.
/// </summary>
/// <remarks>
/// The header lists tensors in the order given. The data section holds them in that order too, except that wider
/// element types come first (8-byte, then 4, 2, 1), as the reference writer does: every tensor then starts at a
/// multiple of its element size, which PyTorch needs to view the bytes without copying.
/// </remarks>
public static class SafeTensorsWriter
{
    /// <summary>Writes <paramref name="tensors"/> (key → tensor, in order) and optional string metadata to <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException">A key is repeated, empty or <c>__metadata__</c>, or a tensor's element type cannot be stored.</exception>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        var layout = list.Select(kv =>
        {
            if (kv.Value is null) throw new ArgumentException($"Tensor '{kv.Key}' is null.", nameof(tensors));
            return new TensorInfo(kv.Key, kv.Value.dtype, kv.Value.shape);
        }).ToList();
        Write(path, layout, metadata, i => TensorBytes.ContiguousCpu(list[i].Value));
    }

    /// <summary>Writes every tensor of <paramref name="stateDict"/>, in its order.</summary>
    public static void Save(string path, StateDict stateDict, IReadOnlyDictionary<string, string>? metadata = null) =>
        Save(path, (IEnumerable<KeyValuePair<string, Tensor>>)stateDict, metadata);

    /// <summary>
    /// Writes every tensor of <paramref name="source"/>, reading one tensor at a time, so a memory-mapped source is
    /// copied without holding it all in memory.
    /// </summary>
    public static void Save(string path, ITensorSource source, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source is StateDict stateDict) { Save(path, stateDict, metadata); return; }
        var layout = source.Keys.Select(source.GetInfo).ToList();
        Write(path, layout, metadata, i => (source.Read(layout[i].Name), true));
    }

    static void Write(string path, IReadOnlyList<TensorInfo> layout, IReadOnlyDictionary<string, string>? metadata,
        Func<int, (Tensor Tensor, bool Owned)> tensorAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Validate(layout);
        // Wider types first, stable within a width: keeps every tensor aligned to its element size.
        int[] dataOrder = Enumerable.Range(0, layout.Count)
            .OrderByDescending(i => DType.ElementSize(layout[i].DType)).ThenBy(i => i).ToArray();
        var offsets = new (long Begin, long End)[layout.Count];
        long position = 0;
        foreach (int i in dataOrder)
        {
            long bytes = checked(layout[i].ElementCount * DType.ElementSize(layout[i].DType));
            offsets[i] = (position, position + bytes);
            position += bytes;
        }
        byte[] header = Header(layout, offsets, metadata);

        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (int i in dataOrder)
            {
                var (t, owned) = tensorAt(i);
                try
                {
                    var info = layout[i];
                    if (t.dtype != info.DType || !t.shape.SequenceEqual(info.Shape))
                        throw new InvalidOperationException(
                            $"Tensor '{info.Name}' changed while being written: expected {info.DType} [{string.Join(", ", info.Shape)}], got {t.dtype} [{string.Join(", ", t.shape)}].");
                    long before = stream.Position;
                    TensorBytes.WriteTo(t, stream);
                    if (stream.Position - before != offsets[i].End - offsets[i].Begin)
                        throw new InvalidOperationException($"Tensor '{info.Name}' wrote {stream.Position - before} bytes instead of {offsets[i].End - offsets[i].Begin}.");
                }
                finally
                {
                    if (owned) t.Dispose();
                }
            }
        });
    }

    static void Validate(IReadOnlyList<TensorInfo> layout)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var info in layout)
        {
            if (string.IsNullOrEmpty(info.Name)) throw new ArgumentException("A tensor has an empty key.");
            if (info.Name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved for metadata and cannot name a tensor.");
            if (!seen.Add(info.Name)) throw new ArgumentException($"Key '{info.Name}' appears more than once.");
            if (!DType.IsSupported(info.DType))
                throw new ArgumentException($"Tensor '{info.Name}' has element type {info.DType}, which safetensors files here cannot hold; supported: {string.Join(", ", DType.Supported)}.");
        }
    }

    static byte[] Header(IReadOnlyList<TensorInfo> layout, (long Begin, long End)[] offsets,
        IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) json.WriteString(k, v ?? throw new ArgumentException($"Metadata '{k}' is null."));
                json.WriteEndObject();
            }
            for (int i = 0; i < layout.Count; i++)
            {
                json.WriteStartObject(layout[i].Name);
                json.WriteString("dtype", DType.ToSafeTensors(layout[i].DType));
                json.WriteStartArray("shape");
                foreach (long d in layout[i].Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offsets[i].Begin);
                json.WriteNumberValue(offsets[i].End);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        // Spaces up to a multiple of 8 bytes, so the data section starts 8-byte aligned.
        long padding = (8 - buffer.Length % 8) % 8;
        for (long p = 0; p < padding; p++) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }
}

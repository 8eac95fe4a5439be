using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Checkpoints;

/// <summary>Where one tensor lives in a safetensors file: its info and its byte range in the data section.</summary>
internal sealed record SafeTensorsEntry(TensorInfo Info, long Begin, long End)
{
    public long ByteLength => End - Begin;
}

/// <summary>
/// The parsed, validated header of a safetensors file: an 8-byte little-endian header length, a JSON object of
/// tensor entries (dtype, shape, data_offsets relative to the data section) and optional string metadata.
/// </summary>
internal sealed class SafeTensorsHeader
{
    /// <summary>Largest header accepted; the reference implementation uses the same bound.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public required IReadOnlyList<SafeTensorsEntry> Entries { get; init; }
    public required IReadOnlyDictionary<string, string> Metadata { get; init; }
    /// <summary>File offset of the data section (8 + header length).</summary>
    public required long DataStart { get; init; }

    /// <summary>Reads and validates the header of <paramref name="stream"/> (positioned anywhere).</summary>
    /// <exception cref="InvalidDataException">Anything is wrong; the message names <paramref name="file"/>.</exception>
    public static SafeTensorsHeader Read(Stream stream, string file)
    {
        long fileLength = stream.Length;
        if (fileLength < 8)
            throw Invalid(file, $"the file is {fileLength} bytes, shorter than the 8-byte header length that starts a safetensors file");
        Span<byte> prefix = stackalloc byte[8];
        stream.Position = 0;
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength < 2)
            throw Invalid(file, $"the header length is {headerLength}; a header is a JSON object of at least 2 bytes");
        if (headerLength > (ulong)(fileLength - 8))
            throw Invalid(file, $"the header length {headerLength} exceeds the {fileLength - 8} bytes after the length field (truncated or not a safetensors file)");
        if (headerLength > MaxHeaderBytes)
            throw Invalid(file, $"the header length {headerLength} exceeds the limit of {MaxHeaderBytes} bytes");

        var json = new byte[(int)headerLength];
        stream.ReadExactly(json);
        long dataStart = 8 + (long)headerLength;
        return Parse(json, file, dataStart, fileLength - dataStart);
    }

    static SafeTensorsHeader Parse(byte[] json, string file, long dataStart, long dataLength)
    {
        try
        {
            StrictUtf8.GetCharCount(json);
        }
        catch (DecoderFallbackException e)
        {
            throw Invalid(file, $"the header is not valid UTF-8 ({e.Message})", e);
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw Invalid(file, $"the header is not valid JSON ({e.Message})", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Invalid(file, $"the header is a JSON {root.ValueKind}, not an object");

            var entries = new List<SafeTensorsEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw Invalid(file, $"the header lists '{property.Name}' twice");
                if (property.Name == "__metadata__") ReadMetadata(property.Value, file, metadata);
                else entries.Add(ReadEntry(property.Name, property.Value, file, dataLength));
            }
            CheckNoOverlap(entries, file);
            return new SafeTensorsHeader { Entries = entries, Metadata = metadata, DataStart = dataStart };
        }
    }

    static void ReadMetadata(JsonElement value, string file, Dictionary<string, string> metadata)
    {
        if (value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.Object)
            throw Invalid(file, $"'__metadata__' is a JSON {value.ValueKind}; it must be an object of strings");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Invalid(file, $"metadata '{item.Name}' is a JSON {item.Value.ValueKind}; metadata values must be strings");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw Invalid(file, $"metadata '{item.Name}' appears twice");
        }
    }

    static SafeTensorsEntry ReadEntry(string key, JsonElement value, string file, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Invalid(file, $"tensor '{key}' is a JSON {value.ValueKind}; it must be an object with dtype, shape and data_offsets");

        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Invalid(file, $"tensor '{key}' has no dtype string");
        string dtypeName = dtypeElement.GetString()!;
        if (!DType.TryFromSafeTensors(dtypeName, out var dtype))
            throw Invalid(file, $"tensor '{key}' has unknown or unsupported dtype '{dtypeName}' (supported: {string.Join(", ", DType.SafeTensorsNames)})");

        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Invalid(file, $"tensor '{key}' has no shape array");
        var shape = new long[shapeElement.GetArrayLength()];
        int axis = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long size))
                throw Invalid(file, $"tensor '{key}' has a shape entry {dim.GetRawText()} that is not an integer");
            if (size < 0)
                throw Invalid(file, $"tensor '{key}' has a negative dimension {size} on axis {axis}");
            shape[axis++] = size;
        }

        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array
            || offsets.GetArrayLength() != 2)
            throw Invalid(file, $"tensor '{key}' has no data_offsets pair [begin, end]");
        long begin = ReadOffset(offsets[0], key, file);
        long end = ReadOffset(offsets[1], key, file);
        if (begin > end)
            throw Invalid(file, $"tensor '{key}' has data_offsets [{begin}, {end}] with begin after end");
        if (end > dataLength)
            throw Invalid(file, $"tensor '{key}' has data_offsets [{begin}, {end}] beyond the {dataLength}-byte data section (truncated file?)");

        long expected;
        try
        {
            long count = 1;
            foreach (long d in shape) count = checked(count * d);
            expected = checked(count * DType.ElementSize(dtype));
        }
        catch (OverflowException)
        {
            throw Invalid(file, $"tensor '{key}' has shape [{string.Join(", ", shape)}] whose byte size overflows");
        }
        if (expected != end - begin)
            throw Invalid(file, $"tensor '{key}' is {dtypeName} with shape [{string.Join(", ", shape)}], which needs {expected} bytes, but its data_offsets [{begin}, {end}] span {end - begin}");

        return new SafeTensorsEntry(new TensorInfo(key, dtype, shape), begin, end);
    }

    static long ReadOffset(JsonElement element, string key, string file)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out long offset) || offset < 0)
            throw Invalid(file, $"tensor '{key}' has a data offset {element.GetRawText()} that is not a non-negative integer");
        return offset;
    }

    static void CheckNoOverlap(List<SafeTensorsEntry> entries, string file)
    {
        var sorted = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToArray();
        for (int i = 1; i < sorted.Length; i++)
        {
            var previous = sorted[i - 1];
            if (sorted[i].Begin < previous.End)
                throw Invalid(file, $"tensors '{previous.Info.Name}' [{previous.Begin}, {previous.End}] and '{sorted[i].Info.Name}' [{sorted[i].Begin}, {sorted[i].End}] overlap");
        }
    }

    internal static InvalidDataException Invalid(string file, string problem, Exception? inner = null) =>
        new($"Invalid safetensors file '{file}': {problem}.", inner);
}

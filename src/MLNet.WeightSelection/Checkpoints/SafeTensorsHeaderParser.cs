using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Checkpoints;

/// <summary>
/// Parses and validates a safetensors JSON header straight from its UTF-8 bytes (the memory-mapped file) with
/// <see cref="Utf8JsonReader"/>, so opening a file costs about its names and metadata in memory and one pass over the
/// header in time, whatever the number of tensors.
/// </summary>
/// <remarks>
/// Two passes. The first checks that the header is well-formed JSON and counts the tensors and their dimensions,
/// allocating nothing; the second fills arrays of exactly that size. A 100 MB header thus never grows a list, and
/// malformed JSON is refused before anything is built.
/// </remarks>
internal static class SafeTensorsHeaderParser
{
    static readonly JsonReaderOptions Options = new() { MaxDepth = 16 };

    // dtype names as UTF-8, compared with the reader's bytes so that no string is made per tensor.
    static readonly (byte[] Name, ScalarType Type)[] DTypes =
        DType.SafeTensorsNames.Select(n => (Encoding.UTF8.GetBytes(n), DType.FromSafeTensors(n))).ToArray();

    /// <summary>Parses <paramref name="json"/>, the header of <paramref name="file"/>, and checks every entry against the data section.</summary>
    /// <exception cref="InvalidDataException">Anything is wrong; the message names <paramref name="file"/> and the tensor.</exception>
    public static SafeTensorsHeader Parse(ReadOnlySpan<byte> json, string file, long dataStart, long dataLength)
    {
        if (!Utf8.IsValid(json))
            throw SafeTensorsHeader.Invalid(file, $"the header is not valid UTF-8 (the first bad byte is at offset {8 + FirstInvalidUtf8(json)} of the file)");
        var (tensorCount, dimensionCount) = Count(json, file);

        var entries = new SafeTensorsEntry[tensorCount];
        var dimensions = new long[dimensionCount];
        var index = new Dictionary<string, int>(tensorCount, StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(json, Options);
        reader.Read();
        int n = 0, usedDimensions = 0;
        bool metadataSeen = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("__metadata__"u8))
            {
                if (metadataSeen) throw SafeTensorsHeader.Invalid(file, "the header lists '__metadata__' twice");
                metadataSeen = true;
                reader.Read();
                ReadMetadata(ref reader, file, metadata);
                continue;
            }
            string name = reader.GetString()!;
            if (!index.TryAdd(name, n))
                throw SafeTensorsHeader.Invalid(file, $"the header lists '{name}' twice");
            reader.Read();
            entries[n++] = ReadEntry(ref reader, name, file, dataLength, dimensions, ref usedDimensions);
        }
        SafeTensorsDataLayout.CheckTiling(entries, dataLength, file);
        return new SafeTensorsHeader(entries, dimensions, index, metadata, dataStart);
    }

    // Pass one: well-formed JSON, an object at the root, and how many tensors and shape dimensions it lists.
    static (int Tensors, int Dimensions) Count(ReadOnlySpan<byte> json, string file)
    {
        var reader = new Utf8JsonReader(json, Options);
        int tensors = 0, dimensions = 0;
        try
        {
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                var kind = reader.TokenType;
                reader.Skip();
                while (reader.Read()) { } // anything after the root value is a JSON error, reported first
                throw SafeTensorsHeader.Invalid(file, $"the header is a JSON {Kind(kind)}, not an object");
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isMetadata = reader.ValueTextEquals("__metadata__"u8);
                reader.Read();
                if (!isMetadata) tensors++;
                if (isMetadata || reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    bool isShape = reader.ValueTextEquals("shape"u8);
                    reader.Read();
                    if (isShape && reader.TokenType == JsonTokenType.StartArray)
                    {
                        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                        {
                            dimensions++;
                            reader.Skip();
                        }
                    }
                    else reader.Skip();
                }
            }
            while (reader.Read()) { }
        }
        catch (JsonException e)
        {
            throw SafeTensorsHeader.Invalid(file, $"the header is not valid JSON ({e.Message})", e);
        }
        return (tensors, dimensions);
    }

    static void ReadMetadata(ref Utf8JsonReader reader, string file, Dictionary<string, string> metadata)
    {
        if (reader.TokenType == JsonTokenType.Null) return;
        if (reader.TokenType != JsonTokenType.StartObject)
            throw SafeTensorsHeader.Invalid(file, $"'__metadata__' is a JSON {Kind(reader.TokenType)}; it must be an object of strings");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
                throw SafeTensorsHeader.Invalid(file, $"metadata '{key}' is a JSON {Kind(reader.TokenType)}; metadata values must be strings");
            if (!metadata.TryAdd(key, reader.GetString()!))
                throw SafeTensorsHeader.Invalid(file, $"metadata '{key}' appears twice");
        }
    }

    static SafeTensorsEntry ReadEntry(ref Utf8JsonReader reader, string key, string file, long dataLength,
        long[] dimensions, ref int usedDimensions)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw SafeTensorsHeader.Invalid(file, $"tensor '{key}' is a JSON {Kind(reader.TokenType)}; it must be an object with dtype, shape and data_offsets");

        ScalarType? dtype = null;
        int shapeStart = usedDimensions, rank = -1;
        (long Begin, long End)? offsets = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("dtype"u8))
            {
                EnsureFirst(dtype is not null, key, "dtype", file);
                reader.Read();
                dtype = ReadDType(ref reader, key, file);
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                EnsureFirst(rank >= 0, key, "shape", file);
                reader.Read();
                rank = ReadShape(ref reader, key, file, dimensions, ref usedDimensions);
            }
            else if (reader.ValueTextEquals("data_offsets"u8))
            {
                EnsureFirst(offsets is not null, key, "data_offsets", file);
                reader.Read();
                offsets = ReadOffsets(ref reader, key, file);
            }
            else
            {
                // Other fields are ignored, as the reference reader does.
                reader.Read();
                reader.Skip();
            }
        }
        if (dtype is not { } type) throw SafeTensorsHeader.Invalid(file, $"tensor '{key}' has no dtype string");
        if (rank < 0) throw SafeTensorsHeader.Invalid(file, $"tensor '{key}' has no shape array");
        if (offsets is not { } pair) throw NoOffsetPair(key, file);
        var (begin, end) = pair;

        var shape = dimensions.AsSpan(shapeStart, rank);
        if (begin > end)
            throw SafeTensorsHeader.Invalid(file, $"tensor '{key}' has data_offsets [{begin}, {end}] with begin after end");
        if (end > dataLength)
            throw SafeTensorsHeader.Invalid(file, $"tensor '{key}' has data_offsets [{begin}, {end}] beyond the {dataLength}-byte data section (truncated file?)");
        long expected;
        try
        {
            long count = 1;
            foreach (long d in shape) count = checked(count * d);
            expected = checked(count * DType.ElementSize(type));
        }
        catch (OverflowException)
        {
            throw SafeTensorsHeader.Invalid(file, $"tensor '{key}' has shape [{string.Join(", ", shape.ToArray())}] whose byte size overflows");
        }
        if (expected != end - begin)
            throw SafeTensorsHeader.Invalid(file, $"tensor '{key}' is {DType.ToSafeTensors(type)} with shape [{string.Join(", ", shape.ToArray())}], which needs {expected} bytes, but its data_offsets [{begin}, {end}] span {end - begin}");
        return new SafeTensorsEntry(key, type, shapeStart, rank, begin, end);
    }

    static void EnsureFirst(bool seen, string key, string field, string file)
    {
        if (seen) throw SafeTensorsHeader.Invalid(file, $"tensor '{key}' lists '{field}' twice");
    }

    static ScalarType ReadDType(ref Utf8JsonReader reader, string key, string file)
    {
        if (reader.TokenType != JsonTokenType.String)
            throw SafeTensorsHeader.Invalid(file, $"tensor '{key}' has no dtype string");
        foreach (var (name, type) in DTypes)
            if (reader.ValueTextEquals(name)) return type;
        throw SafeTensorsHeader.Invalid(file, $"tensor '{key}' has unknown or unsupported dtype '{reader.GetString()}' (supported: {string.Join(", ", DType.SafeTensorsNames)})");
    }

    static int ReadShape(ref Utf8JsonReader reader, string key, string file, long[] dimensions, ref int usedDimensions)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw SafeTensorsHeader.Invalid(file, $"tensor '{key}' has no shape array");
        int axis = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long size))
                throw SafeTensorsHeader.Invalid(file, $"tensor '{key}' has a shape entry {Describe(ref reader)} that is not an integer");
            if (size < 0)
                throw SafeTensorsHeader.Invalid(file, $"tensor '{key}' has a negative dimension {size} on axis {axis}");
            dimensions[usedDimensions++] = size;
            axis++;
        }
        return axis;
    }

    static (long Begin, long End) ReadOffsets(ref Utf8JsonReader reader, string key, string file)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw NoOffsetPair(key, file);
        // The pair's length is checked before its values, so a [begin, end] of the wrong length says so.
        Span<long> values = stackalloc long[2];
        string? bad = null;
        int count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (count < 2 && bad is null)
            {
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long offset) && offset >= 0) values[count] = offset;
                else bad = Describe(ref reader);
            }
            reader.Skip();
            count++;
        }
        if (count != 2) throw NoOffsetPair(key, file);
        if (bad is not null)
            throw SafeTensorsHeader.Invalid(file, $"tensor '{key}' has a data offset {bad} that is not a non-negative integer");
        return (values[0], values[1]);
    }

    static InvalidDataException NoOffsetPair(string key, string file) =>
        SafeTensorsHeader.Invalid(file, $"tensor '{key}' has no data_offsets pair [begin, end]");

    // The value under the reader as an error message shows it; leaves the reader on the value's last token.
    static string Describe(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number: return Encoding.UTF8.GetString(reader.ValueSpan);
            case JsonTokenType.String: return $"\"{reader.GetString()}\"";
            case JsonTokenType.True: return "true";
            case JsonTokenType.False: return "false";
            case JsonTokenType.Null: return "null";
            default:
                string kind = reader.TokenType == JsonTokenType.StartArray ? "an array" : "an object";
                reader.Skip();
                return kind;
        }
    }

    // The names JsonValueKind uses, which the messages have always used.
    static string Kind(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "Object",
        JsonTokenType.StartArray => "Array",
        JsonTokenType.String => "String",
        JsonTokenType.Number => "Number",
        JsonTokenType.True => "True",
        JsonTokenType.False => "False",
        JsonTokenType.Null => "Null",
        _ => token.ToString(),
    };

    static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        int offset = 0;
        while (offset < bytes.Length)
        {
            if (System.Buffers.OperationStatus.Done != Rune.DecodeFromUtf8(bytes[offset..], out _, out int consumed)) return offset;
            offset += consumed;
        }
        return offset;
    }
}

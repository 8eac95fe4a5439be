using System.Buffers.Binary;
using System.Collections;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Checkpoints;

/// <summary>
/// Where one tensor lives in a safetensors file: its name, element type, its shape's place in the header's shared
/// dimension array, and its byte range in the data section. A struct, so a header of a million tensors is one array.
/// </summary>
internal readonly record struct SafeTensorsEntry(string Name, ScalarType DType, int ShapeStart, int Rank, long Begin, long End)
{
    public long ByteLength => End - Begin;
}

/// <summary>
/// The parsed, validated header of a safetensors file: an 8-byte little-endian header length, a JSON object of
/// tensor entries (dtype, shape, data_offsets relative to the data section) and optional string metadata.
/// </summary>
/// <remarks>
/// Memory is kept near the header's own size: entries are structs in one array, shapes share one array of
/// dimensions, and the only per-tensor object is its name (<see cref="SafeTensorsHeaderParser"/>).
/// </remarks>
internal sealed class SafeTensorsHeader
{
    /// <summary>Largest header accepted; the reference implementation uses the same bound.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    readonly SafeTensorsEntry[] _entries;
    readonly long[] _dimensions;
    readonly Dictionary<string, int> _index;

    internal SafeTensorsHeader(SafeTensorsEntry[] entries, long[] dimensions, Dictionary<string, int> index,
        IReadOnlyDictionary<string, string> metadata, long dataStart)
    {
        _entries = entries;
        _dimensions = dimensions;
        _index = index;
        Metadata = metadata;
        DataStart = dataStart;
        Names = new EntryNames(entries);
    }

    /// <summary>Tensor names in header order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The string map stored under <c>__metadata__</c> (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>File offset of the data section (8 + header length).</summary>
    public long DataStart { get; }

    /// <summary>Finds the entry of <paramref name="name"/>.</summary>
    public bool TryFind(string name, out SafeTensorsEntry entry)
    {
        bool found = _index.TryGetValue(name, out int i);
        entry = found ? _entries[i] : default;
        return found;
    }

    /// <summary>The shape of <paramref name="entry"/> as a new array.</summary>
    public long[] Shape(in SafeTensorsEntry entry) => _dimensions.AsSpan(entry.ShapeStart, entry.Rank).ToArray();

    /// <summary>
    /// Reads and checks the 8-byte length field of <paramref name="stream"/>: the header must fit in the file and stay
    /// under <see cref="MaxHeaderBytes"/>. Nothing of the header itself is read, so an oversized one costs nothing.
    /// </summary>
    /// <returns>The header's length in bytes.</returns>
    /// <exception cref="InvalidDataException">The length is impossible; the message names <paramref name="file"/>.</exception>
    public static int ReadLength(Stream stream, string file)
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
        return (int)headerLength;
    }

    internal static InvalidDataException Invalid(string file, string problem, Exception? inner = null) =>
        new($"Invalid safetensors file '{file}': {problem}.", inner);

    /// <summary>The names of the entries, without copying them into a second array.</summary>
    sealed class EntryNames(SafeTensorsEntry[] entries) : IReadOnlyList<string>
    {
        public string this[int index] => entries[index].Name;

        public int Count => entries.Length;

        public IEnumerator<string> GetEnumerator()
        {
            foreach (var entry in entries) yield return entry.Name;
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}

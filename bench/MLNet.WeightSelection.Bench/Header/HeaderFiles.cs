using System.Buffers.Binary;
using System.Text.Json;

namespace MLNet.WeightSelection.Bench.Header;

/// <summary>
/// Valid safetensors files whose header is as large as the format allows, in the shapes that can make it so: one huge
/// metadata string, a few thousand very long names, or a million tiny tensors. Data bytes are zeros (the file is
/// extended, not written), since only the header is measured.
/// </summary>
static class HeaderFiles
{
    /// <summary>One F32 [2, 2] tensor and a metadata string filling the header to about 99 MB.</summary>
    public static void BigMetadata(string path) => Write(path, json =>
    {
        json.WriteStartObject("__metadata__");
        json.WriteString("notes", new string('x', 98_999_000));
        json.WriteEndObject();
        Tensor(json, "weight", 0, 2, 2);
        return 16;
    });

    /// <summary>10,000 F32 [1] tensors with 9,866-character names: a header of about 99 MB.</summary>
    public static void LongNames(string path) => Write(path, json =>
    {
        string filler = new('n', 9_850);
        for (int i = 0; i < 10_000; i++) Tensor(json, $"blocks.{i}.{filler}.weight", 4L * i, 1);
        return 40_000;
    });

    /// <summary>1,000,000 F32 [1] tensors named <c>blocks.N.weight</c>: a header of about 83 MB.</summary>
    public static void MillionTensors(string path) => Write(path, json =>
    {
        for (int i = 0; i < 1_000_000; i++) Tensor(json, $"blocks.{i}.weight", 4L * i, 1);
        return 4_000_000;
    });

    static void Tensor(Utf8JsonWriter json, string name, long begin, params long[] shape)
    {
        json.WriteStartObject(name);
        json.WriteString("dtype", "F32");
        json.WriteStartArray("shape");
        foreach (long d in shape) json.WriteNumberValue(d);
        json.WriteEndArray();
        json.WriteStartArray("data_offsets");
        json.WriteNumberValue(begin);
        json.WriteNumberValue(begin + 4 * shape.Aggregate(1L, (a, b) => a * b));
        json.WriteEndArray();
        json.WriteEndObject();
    }

    // Writes the length field, the header the callback fills (padded to 8 bytes, as writers do) and the data
    // section of the size the callback returns, to a temporary name first.
    static void Write(string path, Func<Utf8JsonWriter, long> entries)
    {
        string temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.ReadWrite))
        {
            file.Write(new byte[8]);
            long dataBytes;
            using (var json = new Utf8JsonWriter(file))
            {
                json.WriteStartObject();
                dataBytes = entries(json);
                json.WriteEndObject();
            }
            long headerBytes = file.Position - 8;
            long padding = (8 - headerBytes % 8) % 8;
            for (long p = 0; p < padding; p++) file.WriteByte((byte)' ');
            headerBytes += padding;
            if (headerBytes >= 100_000_000) throw new InvalidOperationException($"{path}: header of {headerBytes} bytes is over the format's cap.");
            file.SetLength(8 + headerBytes + dataBytes);
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)headerBytes);
            file.Position = 0;
            file.Write(length);
        }
        File.Move(temp, path, overwrite: true);
    }
}

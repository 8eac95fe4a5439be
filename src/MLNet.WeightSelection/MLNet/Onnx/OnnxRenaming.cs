using System.Text;

namespace MLNet.WeightSelection.MLNet.Onnx;

/// <summary>
/// Renames tensors of an ONNX model at the wire level: every node input/output and every graph input, output and
/// value info of the main graph and its subgraphs. Other fields are copied byte for byte. OnnxTransformer names
/// columns after tensors, so renaming the student's input and output to reserved names keeps them from colliding with
/// the user's columns.
/// </summary>
internal static class OnnxRenaming
{
    // Field numbers in onnx.proto.
    const int ModelGraph = 7;
    const int GraphNode = 1, GraphInput = 11, GraphOutput = 12, GraphValueInfo = 13;
    const int NodeInput = 1, NodeOutput = 2, NodeAttribute = 5;
    const int ValueInfoName = 1;
    const int AttributeGraph = 6, AttributeGraphs = 11;

    /// <summary>The model with tensor <paramref name="fromInput"/> renamed to <paramref name="toInput"/> and <paramref name="fromOutput"/> to <paramref name="toOutput"/>.</summary>
    public static byte[] Rename(byte[] model, string fromInput, string toInput, string fromOutput, string toOutput)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal) { [fromInput] = toInput, [fromOutput] = toOutput };
        try
        {
            return Rewrite(model, field => field == ModelGraph ? Graph(map) : null);
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or OverflowException)
        {
            throw new InvalidDataException($"The student's ONNX model is not a valid protobuf message: {e.Message}", e);
        }
    }

    static Func<byte[], byte[]> Graph(Dictionary<string, string> map) => bytes => Rewrite(bytes, field => field switch
    {
        GraphNode => Node(map),
        GraphInput or GraphOutput or GraphValueInfo => ValueInfo(map),
        _ => null,
    });

    static Func<byte[], byte[]> Node(Dictionary<string, string> map) => bytes => Rewrite(bytes, field => field switch
    {
        NodeInput or NodeOutput => Name(map),
        NodeAttribute => Attribute(map),
        _ => null,
    });

    static Func<byte[], byte[]> Attribute(Dictionary<string, string> map) =>
        bytes => Rewrite(bytes, field => field is AttributeGraph or AttributeGraphs ? Graph(map) : null);

    static Func<byte[], byte[]> ValueInfo(Dictionary<string, string> map) =>
        bytes => Rewrite(bytes, field => field == ValueInfoName ? Name(map) : null);

    static Func<byte[], byte[]> Name(Dictionary<string, string> map) => bytes =>
        map.TryGetValue(Encoding.UTF8.GetString(bytes), out var renamed) ? Encoding.UTF8.GetBytes(renamed) : bytes;

    /// <summary>Copies a message, passing the payload of each length-delimited field that <paramref name="rewriter"/> claims through it.</summary>
    static byte[] Rewrite(byte[] message, Func<int, Func<byte[], byte[]>?> rewriter)
    {
        using var output = new MemoryStream(message.Length + 64);
        int position = 0;
        while (position < message.Length)
        {
            int start = position;
            ulong tag = ReadVarint(message, ref position);
            int field = (int)(tag >> 3), wireType = (int)(tag & 7);
            switch (wireType)
            {
                case 0:
                    ReadVarint(message, ref position);
                    break;
                case 1:
                    position += 8;
                    break;
                case 5:
                    position += 4;
                    break;
                case 2:
                    int length = checked((int)ReadVarint(message, ref position));
                    if (length < 0 || position + length > message.Length) throw new EndOfStreamException("A field runs past the end of its message.");
                    if (rewriter(field) is { } rewrite)
                    {
                        var payload = rewrite(message.AsSpan(position, length).ToArray());
                        output.Write(message, start, TagLength(message, start));
                        WriteVarint(output, (ulong)payload.Length);
                        output.Write(payload);
                        position += length;
                        continue;
                    }
                    position += length;
                    break;
                default:
                    throw new InvalidDataException($"Unsupported protobuf wire type {wireType} in field {field}.");
            }
            if (position > message.Length) throw new EndOfStreamException("A field runs past the end of its message.");
            output.Write(message, start, position - start);
        }
        return output.ToArray();
    }

    static int TagLength(byte[] message, int start)
    {
        int position = start;
        ReadVarint(message, ref position);
        return position - start;
    }

    static ulong ReadVarint(byte[] buffer, ref int position)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (position >= buffer.Length) throw new EndOfStreamException("A varint runs past the end of the message.");
            byte b = buffer[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new InvalidDataException("A varint is longer than 10 bytes.");
    }

    static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        stream.WriteByte((byte)value);
    }
}

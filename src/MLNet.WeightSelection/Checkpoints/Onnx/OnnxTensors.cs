using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Checkpoints.Onnx;

/// <summary>Converts between ONNX TensorProto and TorchSharp tensors (CPU, little-endian, as ONNX stores raw data).</summary>
internal static class OnnxTensors
{
    const int Float = (int)TensorProto.Types.DataType.Float;
    const int Double = (int)TensorProto.Types.DataType.Double;
    const int Float16 = (int)TensorProto.Types.DataType.Float16;
    const int Int64 = (int)TensorProto.Types.DataType.Int64;
    const int Int32 = (int)TensorProto.Types.DataType.Int32;

    /// <summary>
    /// Reads <paramref name="proto"/> as a float32 tensor (float, float16 and double are converted). External data is
    /// read relative to <paramref name="modelDirectory"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">Unsupported type, or the data does not match the shape.</exception>
    public static Tensor ToFloatTensor(TensorProto proto, string origin, string? modelDirectory)
    {
        long[] dims = proto.Dims.ToArray();
        long count = dims.Aggregate(1L, (a, b) => a * b);
        float[] data;
        switch (proto.DataType)
        {
            case Float:
                if (proto.FloatData.Count > 0)
                {
                    data = new float[proto.FloatData.Count];
                    proto.FloatData.CopyTo(data, 0);
                }
                else data = MemoryMarshal.Cast<byte, float>(RawBytes(proto, origin, modelDirectory)).ToArray();
                break;
            case Double:
                data = proto.DoubleData.Count > 0 ? proto.DoubleData.Select(d => (float)d).ToArray()
                    : MemoryMarshal.Cast<byte, double>(RawBytes(proto, origin, modelDirectory)).ToArray().Select(d => (float)d).ToArray();
                break;
            case Float16:
                data = proto.Int32Data.Count > 0 ? proto.Int32Data.Select(bits => (float)BitConverter.UInt16BitsToHalf((ushort)bits)).ToArray()
                    : MemoryMarshal.Cast<byte, Half>(RawBytes(proto, origin, modelDirectory)).ToArray().Select(h => (float)h).ToArray();
                break;
            default:
                throw new InvalidDataException($"{origin}: tensor '{proto.Name}' has ONNX data type {proto.DataType}; expected float, float16 or double.");
        }
        if (data.LongLength != count)
            throw new InvalidDataException($"{origin}: tensor '{proto.Name}' has {data.LongLength} values but its shape [{string.Join(", ", dims)}] needs {count}.");
        return torch.tensor(data, dims);
    }

    /// <summary>Reads an integer tensor (int64 or int32) as longs, e.g. a Reshape target.</summary>
    public static long[] ToLongs(TensorProto proto, string origin, string? modelDirectory) => proto.DataType switch
    {
        Int64 => proto.Int64Data.Count > 0 ? proto.Int64Data.ToArray() : MemoryMarshal.Cast<byte, long>(RawBytes(proto, origin, modelDirectory)).ToArray(),
        Int32 => proto.Int32Data.Count > 0 ? proto.Int32Data.Select(i => (long)i).ToArray()
            : MemoryMarshal.Cast<byte, int>(RawBytes(proto, origin, modelDirectory)).ToArray().Select(i => (long)i).ToArray(),
        _ => throw new InvalidDataException($"{origin}: tensor '{proto.Name}' has ONNX data type {proto.DataType}; expected int64 or int32."),
    };

    /// <summary>Stores a float32 (or int64) CPU tensor as an ONNX initializer with raw little-endian data.</summary>
    public static TensorProto FromTensor(string name, Tensor tensor)
    {
        using var contiguous = tensor.detach().cpu().contiguous();
        var proto = new TensorProto { Name = name };
        proto.Dims.AddRange(contiguous.shape);
        switch (contiguous.dtype)
        {
            case ScalarType.Float32:
                proto.DataType = Float;
                proto.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(contiguous.data<float>().ToArray().AsSpan()));
                break;
            case ScalarType.Int64:
                proto.DataType = Int64;
                proto.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(contiguous.data<long>().ToArray().AsSpan()));
                break;
            default:
                using (var asFloat = contiguous.to_type(ScalarType.Float32))
                    return FromTensor(name, asFloat);
        }
        return proto;
    }

    /// <summary>A float32 initializer from plain values.</summary>
    public static TensorProto FromFloats(string name, float[] values, params long[] dims)
    {
        var proto = new TensorProto { Name = name, DataType = Float };
        proto.Dims.AddRange(dims);
        proto.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        return proto;
    }

    /// <summary>An int64 initializer from plain values (shapes, axes).</summary>
    public static TensorProto FromLongs(string name, long[] values, params long[] dims)
    {
        var proto = new TensorProto { Name = name, DataType = Int64 };
        proto.Dims.AddRange(dims);
        proto.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        return proto;
    }

    static ReadOnlySpan<byte> RawBytes(TensorProto proto, string origin, string? modelDirectory)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("ONNX raw tensor data is little-endian; this machine is big-endian.");
        if (proto.DataLocation != TensorProto.Types.DataLocation.External) return proto.RawData.Span;
        return ExternalBytes(proto, origin, modelDirectory);
    }

    static byte[] ExternalBytes(TensorProto proto, string origin, string? modelDirectory)
    {
        var entries = proto.ExternalData.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        if (!entries.TryGetValue("location", out var location) || modelDirectory is null)
            throw new InvalidDataException($"{origin}: tensor '{proto.Name}' keeps its data externally but names no readable location.");
        string file = Path.Combine(modelDirectory, location);
        if (!File.Exists(file))
            throw new InvalidDataException($"{origin}: tensor '{proto.Name}' keeps its data in '{file}', which does not exist.");
        long offset = entries.TryGetValue("offset", out var o) ? long.Parse(o) : 0;
        using var stream = File.OpenRead(file);
        long length = entries.TryGetValue("length", out var l) ? long.Parse(l) : stream.Length - offset;
        if (offset < 0 || length < 0 || offset + length > stream.Length)
            throw new InvalidDataException($"{origin}: tensor '{proto.Name}' asks for bytes {offset}..{offset + length} of '{file}', which has {stream.Length}.");
        var bytes = new byte[length];
        stream.Position = offset;
        stream.ReadExactly(bytes);
        return bytes;
    }
}

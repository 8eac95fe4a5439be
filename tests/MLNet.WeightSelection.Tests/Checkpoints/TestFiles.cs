using System.Buffers.Binary;
using System.Text;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Checkpoints;

/// <summary>Fixture paths, hand-made safetensors bytes and tensor comparisons for the checkpoint tests.</summary>
internal static class TestFiles
{
    /// <summary>The folder of PyTorch-made fixtures (see Fixtures/make_fixtures.py).</summary>
    public static string Fixtures { get; } =
        Path.Combine(TestPaths.RepoRoot, "tests", "MLNet.WeightSelection.Tests", "Checkpoints", "Fixtures");

    public static string Fixture(string name) => Path.Combine(Fixtures, name);

    public static IEnumerable<string> GoldenSafeTensors() =>
        Directory.EnumerateFiles(TestPaths.Golden, "*.safetensors").OrderBy(f => f, StringComparer.Ordinal);

    /// <summary>A safetensors file from a header JSON text and data bytes; the length field may be overridden.</summary>
    public static byte[] RawSafeTensors(string headerJson, byte[] data, ulong? headerLength = null)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    /// <summary>True when both tensors have the same dtype, shape and bytes.</summary>
    public static void AssertBitIdentical(Tensor expected, Tensor actual, string what)
    {
        Assert.True(expected.dtype == actual.dtype, $"{what}: dtype {actual.dtype}, expected {expected.dtype}");
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]");
        using var e = expected.contiguous();
        using var a = actual.contiguous();
        Assert.True(e.NumberOfElements == 0 || e.bytes.SequenceEqual(a.bytes), $"{what}: bytes differ");
    }

    /// <summary>All values of a tensor as doubles (after conversion to float64).</summary>
    public static double[] Values(Tensor t)
    {
        using var d = t.to_type(ScalarType.Float64).contiguous();
        return d.data<double>().ToArray();
    }
}

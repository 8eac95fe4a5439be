using MLNet.WeightSelection.Checkpoints;
using Xunit;

namespace MLNet.WeightSelection.Tests.Cli;

/// <summary>Bit-level comparisons of tensors read from checkpoint files.</summary>
public static class TensorFiles
{
    /// <summary>The raw bytes of <paramref name="key"/> (dtype and shape as stored).</summary>
    public static byte[] Bytes(ITensorSource source, string key)
    {
        using var t = source.Read(key);
        return t.contiguous().bytes.ToArray();
    }

    public static void AssertIdentical(ITensorSource expected, ITensorSource actual, string key)
    {
        var want = expected.GetInfo(key);
        var got = actual.GetInfo(key);
        Assert.True(want.DType == got.DType, $"'{key}': dtype {got.DType}, expected {want.DType}");
        Assert.True(want.Shape.SequenceEqual(got.Shape), $"'{key}': shape [{string.Join(", ", got.Shape)}], expected [{string.Join(", ", want.Shape)}]");
        Assert.True(Bytes(expected, key).AsSpan().SequenceEqual(Bytes(actual, key)), $"'{key}': values differ from the golden student");
    }
}

using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Selection;

public static class TensorAssert
{
    /// <summary>Same dtype, same shape, same bytes (bit-identical, like torch.equal on non-NaN data).</summary>
    public static bool BitIdentical(Tensor a, Tensor b) =>
        a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.contiguous().bytes.SequenceEqual(b.contiguous().bytes);

    public static void Identical(Tensor expected, Tensor actual, string what) =>
        Assert.True(BitIdentical(expected, actual),
            $"{what}: expected {expected.dtype} [{string.Join(", ", expected.shape)}], got {actual.dtype} [{string.Join(", ", actual.shape)}] or different values.");
}

using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Models;

/// <summary>Element-wise tensor comparisons with useful failure messages.</summary>
public static class TensorAssert
{
    /// <summary>Asserts |actual − expected| ≤ atol + rtol·|expected| everywhere (numpy's allclose), and equal shapes.</summary>
    public static void Close(Tensor expected, Tensor actual, double rtol, double atol, string what)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}].");
        using var e = expected.to_type(ScalarType.Float64);
        using var a = actual.to_type(ScalarType.Float64);
        using var diff = (a - e).abs();
        using var bound = e.abs() * rtol + atol;
        using var bad = diff.gt(bound);
        long failures = bad.sum().item<long>();
        if (failures == 0) return;
        double maxDiff = diff.max().item<double>();
        Assert.Fail($"{what}: {failures} of {e.numel()} elements differ beyond rtol {rtol} / atol {atol}; max |diff| = {maxDiff:G6}.");
    }

    /// <summary>Asserts the two tensors are identical element by element.</summary>
    public static void Equal(Tensor expected, Tensor actual, string what)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}].");
        using var same = expected.eq(actual);
        Assert.True(same.all().item<bool>(), $"{what}: {same.logical_not().sum().item<long>()} of {expected.numel()} values differ.");
    }
}

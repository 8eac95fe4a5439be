using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Selection;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Selection;

public class ElementSelectionTests
{
    // Expected values computed with numpy 1.24: np.round(np.linspace(0, t - 1, s)) (round half to even).
    [Theory]
    [InlineData(10, 4, new long[] { 0, 3, 6, 9 })]
    [InlineData(7, 4, new long[] { 0, 2, 4, 6 })]
    [InlineData(5, 4, new long[] { 0, 1, 3, 4 })]
    [InlineData(6, 4, new long[] { 0, 2, 3, 5 })]
    [InlineData(9, 6, new long[] { 0, 2, 3, 5, 6, 8 })]
    [InlineData(4, 3, new long[] { 0, 2, 3 })]
    [InlineData(8, 3, new long[] { 0, 4, 7 })]          // 3.5 -> 4
    [InlineData(12, 5, new long[] { 0, 3, 6, 8, 11 })]  // 5.5 -> 6
    [InlineData(14, 5, new long[] { 0, 3, 6, 10, 13 })] // 6.5 -> 6
    [InlineData(100, 7, new long[] { 0, 16, 33, 50, 66, 82, 99 })] // 16.5 -> 16, 49.5 -> 50, 82.5 -> 82
    [InlineData(64, 24, new long[] { 0, 3, 5, 8, 11, 14, 16, 19, 22, 25, 27, 30, 33, 36, 38, 41, 44, 47, 49, 52, 55, 58, 60, 63 })]
    public void UniformUsesRoundedLinspaceForNonDivisiblePairs(long t, long s, long[] expected) =>
        Assert.Equal(expected, ElementSelection.UniformIndices(t, s));

    [Theory]
    [InlineData(12, 4, new long[] { 0, 3, 6, 9 })]   // i * (t / s), not linspace's [0, 4, 7, 11]
    [InlineData(6, 3, new long[] { 0, 2, 4 })]
    [InlineData(64, 32, null)]
    [InlineData(5, 5, new long[] { 0, 1, 2, 3, 4 })]
    [InlineData(5, 1, new long[] { 0 })]
    public void UniformStepsByTheRatioWhenTheStudentDividesTheTeacher(long t, long s, long[]? expected)
    {
        expected ??= Enumerable.Range(0, (int)s).Select(i => (long)i * (t / s)).ToArray();
        Assert.Equal(expected, ElementSelection.UniformIndices(t, s));
    }

    [Fact]
    public void RoundedLinspaceMatchesNumpyOnALongAxis()
    {
        var indices = ElementSelection.RoundedLinspace(1000, 999);
        Assert.Equal(new long[] { 495, 496, 497, 498, 500, 501, 502, 503 }, indices[495..503]); // 499.5 -> 500
        Assert.Equal(new long[] { 0, 2, 5, 7, 10, 12, 14, 17, 19, 22, 24, 26 }, ElementSelection.RoundedLinspace(768, 320)[..12]);
        Assert.Equal(new long[] { 0 }, ElementSelection.RoundedLinspace(9, 1));
        Assert.Equal(new long[] { 0, 2, 5 }, ElementSelection.RoundedLinspace(6, 3)); // 2.5 -> 2: half to even, not away from zero
    }

    [Fact]
    public void ThePapersExampleTakesRowsZeroTwoAndColumnsZeroTwoFour()
    {
        var schema = new SelectionSchema
        {
            Family = "toy",
            Signature = new[] { "w" },
            Rules = new[] { new WidthRule("w", AxisBinding.To("rows"), AxisBinding.To("cols")) },
        };
        using var teacher = new StateDict("teacher") { { "w", arange(24, ScalarType.Float32).reshape(4, 6) } };
        using var result = WeightSelector.Select(teacher, new Dictionary<string, long[]> { ["w"] = new long[] { 2, 3 } }, schema);

        var expected = new float[] { 0, 2, 4, 12, 14, 16 }; // rows {0, 2} x columns {0, 2, 4} of a 4x6 arange
        Assert.Equal(expected, result.Weights["w"].data<float>().ToArray());
        Assert.Equal(new long[] { 0, 2 }, result.Report.Widths.Single(w => w.Name == "rows").Indices);
        Assert.Equal(new long[] { 0, 2, 4 }, result.Report.Widths.Single(w => w.Name == "cols").Indices);
    }

    [Fact]
    public void ConsecutiveTakesTheFirstIndices() =>
        Assert.Equal(new long[] { 0, 1, 2 }, ElementSelection.ConsecutiveIndices(10, 3));

    [Fact]
    public void RandomIndicesAreSortedDistinctAndReproducible()
    {
        var a = ElementSelection.RandomIndices(50, 20, seed: 3, "embed");
        Assert.Equal(a, ElementSelection.RandomIndices(50, 20, seed: 3, "embed"));
        Assert.Equal(a.Order(), a);
        Assert.Equal(20, a.Distinct().Count());
        Assert.All(a, i => Assert.InRange(i, 0, 49));
        Assert.NotEqual(a, ElementSelection.RandomIndices(50, 20, seed: 4, "embed"));
        Assert.NotEqual(a, ElementSelection.RandomIndices(50, 20, seed: 3, "blocks.0.mlp.hidden"));
    }

    [Fact]
    public void TopIndicesKeepTheLargestScoresInAscendingOrder()
    {
        Assert.Equal(new long[] { 1, 3 }, ElementSelection.TopIndices(new[] { 0.1, 5, 0.2, 3, 1 }, 2));
        Assert.Equal(new long[] { 0, 2 }, ElementSelection.TopIndices(new[] { 2.0, 1, 2, 2 }, 2)); // ties: lower index first
    }

    [Fact]
    public void SizesOutOfRangeAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ElementSelection.UniformIndices(3, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => ElementSelection.UniformIndices(3, 0));
    }
}

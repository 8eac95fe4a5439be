using System.Globalization;

namespace MLNet.WeightSelection.Models;

/// <summary>The phrase a family's <see cref="ModelFamily.ShapeMismatches"/> gives for one telling size.</summary>
public static class ShapeCheck
{
    /// <summary>Adds "<paramref name="what"/> is A, the spec says B" when <paramref name="actual"/> differs (-1: missing).</summary>
    public static void Expect(List<string> problems, string what, long actual, long expected)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (actual != expected)
            problems.Add($"{what} is {(actual < 0 ? "missing" : actual.ToString(CultureInfo.InvariantCulture))}, the spec says {expected}");
    }
}

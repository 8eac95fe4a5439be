namespace MLNet.WeightSelection.Bench.Infra;

static class Stats
{
    public static double Median(IEnumerable<double> values)
    {
        var v = values.OrderBy(x => x).ToArray();
        if (v.Length == 0) return double.NaN;
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    public static double Mean(IEnumerable<double> values)
    {
        var v = values.ToArray();
        return v.Length == 0 ? double.NaN : v.Average();
    }

    /// <summary>Sample standard deviation (n − 1); 0 for a single value.</summary>
    public static double Std(IEnumerable<double> values)
    {
        var v = values.ToArray();
        if (v.Length < 2) return 0;
        double m = v.Average();
        return Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / (v.Length - 1));
    }
}

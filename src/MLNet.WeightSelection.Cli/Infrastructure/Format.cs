using System.Globalization;

namespace MLNet.WeightSelection.Cli.Infrastructure;

/// <summary>Number and shape formatting shared by the commands (invariant culture: output is the same everywhere).</summary>
internal static class Format
{
    public static string Shape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";

    public static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>1234567 → "1.23M".</summary>
    public static string Short(long n) => n switch
    {
        >= 1_000_000_000 => (n / 1e9).ToString("0.##", CultureInfo.InvariantCulture) + "B",
        >= 1_000_000 => (n / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + "M",
        >= 1_000 => (n / 1e3).ToString("0.##", CultureInfo.InvariantCulture) + "K",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };

    public static string Percent(double fraction) =>
        double.IsNaN(fraction) ? "-" : (fraction * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%";

    public static string Number(double value, string format = "0.0000") =>
        double.IsNaN(value) ? "-" : value.ToString(format, CultureInfo.InvariantCulture);

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.##", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.##", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("0.##", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };
}

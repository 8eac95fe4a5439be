using System.Globalization;
using System.Text.RegularExpressions;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// RandAugment with timm's conventions: each image applies <see cref="NumLayers"/> operations drawn uniformly (with
/// replacement) from 15, each with probability <see cref="Probability"/>, at a magnitude drawn around
/// <see cref="Magnitude"/> on timm's 0–10 scale. <see cref="Parse"/> reads timm's config string (train.py's
/// <c>--aa</c>), such as the paper's <c>rand-m9-mstd0.5-inc1</c>.
/// </summary>
public sealed class RandAugmentOptions
{
    /// <summary>Operations applied to each image, drawn independently. Default: 2 (timm's <c>n</c>).</summary>
    public int NumLayers { get; set; } = 2;

    /// <summary>Mean magnitude on the 0–10 scale. Default: 9 (timm's <c>m</c>; timm's own default without <c>m</c> is 10).</summary>
    public double Magnitude { get; set; } = 9;

    /// <summary>
    /// Standard deviation of the per-operation gaussian noise on the magnitude; 0 keeps it fixed and
    /// <see cref="double.PositiveInfinity"/> draws it uniformly from [0, <see cref="Magnitude"/>]. Default: 0.5 (timm's <c>mstd</c>).
    /// </summary>
    public double MagnitudeStd { get; set; } = 0.5;

    /// <summary>Upper clip of a drawn magnitude (the lower is 0). Default: 10 (timm's <c>mmax</c>).</summary>
    public double MagnitudeMax { get; set; } = 10;

    /// <summary>Probability that each drawn operation is applied. Default: 0.5 (timm's <c>p</c>).</summary>
    public double Probability { get; set; } = 0.5;

    /// <summary>
    /// Use the operations whose strength grows with the magnitude (timm's <c>inc1</c>: PosterizeIncreasing,
    /// SolarizeIncreasing and the enhancements pushed away from 1 in a random direction). Default: true.
    /// </summary>
    public bool Increasing { get; set; } = true;

    /// <summary>Largest translation as a share of the image side, reached at magnitude 10. Default: 0.45 (timm's translate_pct).</summary>
    public double TranslatePercent { get; set; } = 0.45;

    /// <summary>The paper's recipe, <c>rand-m9-mstd0.5-inc1</c>. A new object on each call.</summary>
    public static RandAugmentOptions Default => new();

    /// <summary>
    /// No RandAugment, where the fitted recipe would add it (<see cref="RecipeSettings.RandAugment"/>,
    /// <c>WeightSelectionOptions.RandAugment</c>). In <see cref="AugmentationOptions.RandAugment"/> it is the same as null.
    /// </summary>
    public static RandAugmentOptions Off { get; } = new() { IsOff = true };

    /// <summary>True for <see cref="Off"/>.</summary>
    public bool IsOff { get; private init; }

    static readonly Regex Section = new("^([a-z]+)([0-9].*)$", RegexOptions.CultureInvariant);

    /// <summary>
    /// Reads timm's RandAugment config string: <c>rand</c> followed by dash-separated sections <c>m</c> (magnitude),
    /// <c>mstd</c> (magnitude noise; above 100 means uniform), <c>mmax</c>, <c>n</c> (layers), <c>p</c> (probability)
    /// and <c>inc</c> (0 or 1). Unset sections keep timm's defaults: m10, mstd0, mmax10, n2, p0.5, inc0.
    /// </summary>
    /// <exception cref="FormatException">The string is not a RandAugment config, or a section is unknown or malformed.</exception>
    public static RandAugmentOptions Parse(string config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var sections = config.Trim().Split('-');
        if (sections[0] != "rand")
            throw new FormatException($"RandAugment config '{config}' must start with 'rand' (as in timm's rand-m9-mstd0.5-inc1).");
        var options = new RandAugmentOptions { Magnitude = 10, MagnitudeStd = 0, Increasing = false };
        foreach (var section in sections.Skip(1))
        {
            var match = Section.Match(section);
            if (!match.Success)
                throw new FormatException($"RandAugment config '{config}': section '{section}' is not a key followed by a number (such as m9 or mstd0.5).");
            string key = match.Groups[1].Value, text = match.Groups[2].Value;
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
                throw new FormatException($"RandAugment config '{config}': section '{section}' has no valid number after '{key}'.");
            switch (key)
            {
                case "m": options.Magnitude = value; break;
                case "mstd": options.MagnitudeStd = value > 100 ? double.PositiveInfinity : value; break;
                case "mmax": options.MagnitudeMax = value; break;
                case "n":
                    if (value != Math.Floor(value)) throw new FormatException($"RandAugment config '{config}': n must be a whole number; got {text}.");
                    options.NumLayers = (int)Math.Min(value, int.MaxValue);
                    break;
                case "p": options.Probability = value; break;
                case "inc":
                    if (value != 0 && value != 1) throw new FormatException($"RandAugment config '{config}': inc must be 0 or 1; got {text}.");
                    options.Increasing = value == 1;
                    break;
                case "w":
                    throw new FormatException($"RandAugment config '{config}': op weights ('w') are not supported; operations are drawn uniformly.");
                default:
                    throw new FormatException($"RandAugment config '{config}': unknown section '{key}'; expected m, mstd, mmax, n, p or inc.");
            }
        }
        try { options.Validate(); }
        catch (ArgumentException e) { throw new FormatException($"RandAugment config '{config}': {e.Message}", e); }
        return options;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first value out of range.</summary>
    public void Validate()
    {
        if (IsOff) return;
        if (NumLayers < 1) throw new ArgumentException($"RandAugment.NumLayers must be >= 1; got {NumLayers}.");
        if (!(MagnitudeMax > 0) || !double.IsFinite(MagnitudeMax)) throw new ArgumentException($"RandAugment.MagnitudeMax must be finite and > 0; got {MagnitudeMax}.");
        if (!(Magnitude >= 0) || !double.IsFinite(Magnitude)) throw new ArgumentException($"RandAugment.Magnitude must be finite and >= 0 (draws above MagnitudeMax are clipped, as in timm); got {Magnitude}.");
        if (!(MagnitudeStd >= 0)) throw new ArgumentException($"RandAugment.MagnitudeStd must be >= 0 (or +infinity for uniform); got {MagnitudeStd}.");
        if (!(Probability >= 0 && Probability <= 1)) throw new ArgumentException($"RandAugment.Probability must be in [0, 1]; got {Probability}.");
        if (!(TranslatePercent >= 0 && TranslatePercent <= 1)) throw new ArgumentException($"RandAugment.TranslatePercent must be in [0, 1]; got {TranslatePercent}.");
    }

    /// <summary>The timm config string of these settings (every section spelled out), with the translation share when it is not timm's 0.45.</summary>
    public override string ToString()
    {
        if (IsOff) return "off";
        string std = double.IsPositiveInfinity(MagnitudeStd) ? "101" : MagnitudeStd.ToString("R", CultureInfo.InvariantCulture);
        string text = FormattableString.Invariant($"rand-m{Magnitude:R}-mstd{std}-mmax{MagnitudeMax:R}-n{NumLayers}-p{Probability:R}-inc{(Increasing ? 1 : 0)}");
        return TranslatePercent == 0.45 ? text : text + FormattableString.Invariant($" translate={TranslatePercent:R}");
    }
}

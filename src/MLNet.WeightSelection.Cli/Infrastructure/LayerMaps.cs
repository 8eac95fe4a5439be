using System.CommandLine;
using System.Globalization;
using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Cli.Infrastructure;

/// <summary>Reads <c>--layer-map GROUP=I,J,...</c> entries into an explicit <see cref="LayerSelection"/>.</summary>
internal static class LayerMaps
{
    /// <summary>The repeatable <c>--layer-map</c> option that <c>ws select</c> and <c>ws train</c> share.</summary>
    public static Option<string[]> CreateOption() => new("--layer-map")
    {
        Description = "An explicit layer map for one layer group, GROUP=I,J,...: the teacher layer of each student layer, such as "
            + "blocks=0,3 (ViT), stages.2.blocks=0,2,4 (ConvNeXt) or layer3=1 (ResNet). Repeat it for more groups; groups it "
            + "does not name follow --layers. Default: none.",
    };

    /// <summary>
    /// The explicit map the entries give, with <paramref name="otherwise"/> for the groups they do not name; just
    /// <paramref name="otherwise"/> when there are no entries.
    /// </summary>
    public static LayerSelection Parse(IReadOnlyList<string> entries, LayerSelection otherwise, string option)
    {
        if (entries.Count == 0) return otherwise;
        var map = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (string entry in entries)
        {
            int equals = entry.IndexOf('=', StringComparison.Ordinal);
            string group = equals < 0 ? "" : entry[..equals].Trim();
            if (group.Length == 0 || equals == entry.Length - 1)
                throw new CliException($"{option} '{entry}': expected GROUP=I,J,... such as blocks=0,3 (a layer group, then the teacher layer of each student layer).");
            var layers = entry[(equals + 1)..].Split(',', StringSplitOptions.TrimEntries).Select(text =>
                int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int layer)
                    ? layer
                    : throw new CliException($"{option} '{entry}': '{text}' is not a teacher layer number (0, 1, 2, ...).")).ToArray();
            if (!map.TryAdd(group, layers)) throw new CliException($"{option}: the layer group '{group}' is given twice.");
        }
        return LayerSelection.Explicit(map, otherwise);
    }
}

using System.Globalization;
using System.Text.RegularExpressions;

namespace MLNet.WeightSelection.Cli.Infrastructure;

/// <summary>
/// Key → shape of every tensor of a checkpoint, and its layer counts per key pattern, each counted once: matching a
/// checkpoint against every preset of a family then scans its keys once per pattern, not once per preset.
/// </summary>
internal sealed class CheckpointShapes
{
    readonly Dictionary<string, long[]> _shapes;
    readonly Dictionary<Regex, Dictionary<string, int>> _layerCounts = new();

    public CheckpointShapes(Dictionary<string, long[]> shapes) => _shapes = shapes;

    /// <summary>Number of tensors.</summary>
    public int Count => _shapes.Count;

    /// <summary>The shape of <paramref name="key"/>, when the checkpoint has it.</summary>
    public bool TryGetValue(string key, out long[] shape) => _shapes.TryGetValue(key, out shape!);

    /// <summary>True when the checkpoint has <paramref name="key"/>.</summary>
    public bool ContainsKey(string key) => _shapes.ContainsKey(key);

    /// <summary>
    /// Layers per group among the keys <paramref name="pattern"/> matches: the highest <c>layer</c> group + 1, keyed by
    /// the <c>stage</c> group ("" when the pattern has none).
    /// </summary>
    public IReadOnlyDictionary<string, int> LayerCounts(Regex pattern)
    {
        if (_layerCounts.TryGetValue(pattern, out var cached)) return cached;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var key in _shapes.Keys)
        {
            var m = pattern.Match(key);
            if (!m.Success) continue;
            int layer = int.Parse(m.Groups["layer"].Value, CultureInfo.InvariantCulture) + 1;
            string stage = m.Groups["stage"].Success ? m.Groups["stage"].Value : "";
            counts[stage] = Math.Max(counts.GetValueOrDefault(stage), layer);
        }
        _layerCounts[pattern] = counts;
        return counts;
    }
}

using System.Globalization;
using System.Text.RegularExpressions;

namespace MLNet.WeightSelection.Checkpoints;

/// <summary>
/// Key → shape of every tensor of a checkpoint, and its layer counts per key pattern, each counted once: matching a
/// checkpoint against every preset of a family then scans its keys once per pattern, not once per preset.
/// </summary>
public sealed class CheckpointShapes
{
    readonly Dictionary<string, long[]> _shapes;
    readonly Dictionary<Regex, Dictionary<string, int>> _layerCounts = new();

    /// <summary>Wraps key → shape.</summary>
    public CheckpointShapes(Dictionary<string, long[]> shapes) => _shapes = shapes;

    /// <summary>Key → shape of every tensor of <paramref name="source"/>, read from its header only.</summary>
    public static CheckpointShapes Of(ITensorSource source) =>
        new(source.Keys.ToDictionary(k => k, k => source.GetInfo(k).Shape, StringComparer.Ordinal));

    /// <summary>Size of <paramref name="key"/>'s axis <paramref name="axis"/>, or -1 when the checkpoint lacks it.</summary>
    public long Dim(string key, int axis) => _shapes.TryGetValue(key, out var s) && s.Length > axis ? s[axis] : -1;

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

using System.Text.RegularExpressions;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.ConvNeXt;
using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Models.Vit;
using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>A preset whose model has exactly the checkpoint's keys and shapes, with the overrides needed.</summary>
/// <param name="Preset">The registered name.</param>
/// <param name="NumClasses">Classes of the checkpoint's classifier (0: no classifier).</param>
/// <param name="ImageSize">The ViT image size the position embedding implies; null for convolutional families.</param>
internal sealed record PresetMatch(string Preset, int NumClasses, int? ImageSize)
{
    public override string ToString() =>
        $"{Preset} (num_classes {NumClasses}{(ImageSize is { } s ? $", img_size {s}" : "")})";
}

/// <summary>
/// Finds the registered presets a checkpoint is an instance of. Each preset of the detected family is first checked
/// against a few telling shapes (so a ViT-L is never built to compare with a ViT-T checkpoint), then built with the
/// checkpoint's number of classes (and ViT image size) and compared key by key, shape by shape.
/// </summary>
internal static partial class PresetMatcher
{
    public static IReadOnlyList<PresetMatch> Find(ITensorSource source, string family)
    {
        var shapes = source.Keys.ToDictionary(k => k, k => source.GetInfo(k).Shape, StringComparer.Ordinal);
        var matches = new List<PresetMatch>();
        foreach (string name in ModelRegistry.Names)
        {
            var preset = ModelRegistry.GetSpec(name);
            if (preset.Family != family || !Plausible(preset, shapes)) continue;
            var candidate = Candidate(preset, shapes);
            if (candidate is null) continue;
            var (spec, match) = candidate.Value;
            using var model = spec.CreateModel();
            if (SameShapes(model, shapes)) matches.Add(match with { Preset = name });
        }
        return matches;
    }

    static (ModelSpec, PresetMatch)? Candidate(ModelSpec preset, IReadOnlyDictionary<string, long[]> shapes)
    {
        string? classifierWeight = FamilySchemas.ByName(preset.Family).ClassifierKeys
            .FirstOrDefault(k => k.EndsWith(".weight", StringComparison.Ordinal));
        int classes = classifierWeight is not null && shapes.TryGetValue(classifierWeight, out var w) ? (int)w[0] : 0;
        int? imageSize = null;
        if (preset is VisionTransformerSpec vit && shapes.TryGetValue("pos_embed", out var pos) && pos.Length == 3)
        {
            long grid = pos[1] - vit.NumPrefixTokens;
            long side = (long)Math.Round(Math.Sqrt(grid));
            if (side * side != grid) return null;
            imageSize = (int)side * vit.PatchSize;
        }
        try
        {
            var spec = ModelRegistry.WithOverrides(preset, classes, imageSize);
            return (spec, new PresetMatch("", classes, imageSize));
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    static bool SameShapes(ImageClassifier model, IReadOnlyDictionary<string, long[]> shapes)
    {
        var state = model.state_dict();
        return state.Count == shapes.Count
            && state.All(kv => shapes.TryGetValue(kv.Key, out var shape) && shape.SequenceEqual(kv.Value.shape));
    }

    /// <summary>Cheap checks on a few shapes and layer counts, before any model is built.</summary>
    static bool Plausible(ModelSpec preset, IReadOnlyDictionary<string, long[]> shapes) => preset switch
    {
        VisionTransformerSpec v => Dim(shapes, "patch_embed.proj.weight", 0) == v.EmbedDim
            && Dim(shapes, "patch_embed.proj.weight", 2) == v.PatchSize
            && Count(shapes, VitBlock(), _ => "blocks").GetValueOrDefault("blocks") == v.Depth,
        ConvNeXtSpec c => Dim(shapes, "stem.0.weight", 0) == c.Dims[0]
            && Dim(shapes, "head.norm.weight", 0) == c.Dims[^1]
            && Layers(shapes, ConvNeXtBlock(), c.Depths.Length).SequenceEqual(c.Depths),
        ResNetSpec r => Dim(shapes, "bn1.weight", 0) == r.StemChannels
            && shapes.ContainsKey("layer1.0.conv3.weight") == (r.Block == ResNetBlock.Bottleneck)
            && Layers(shapes, ResNetBlockKey(), r.Layers.Length, oneBased: true).SequenceEqual(r.Layers),
        _ => false,
    };

    static long Dim(IReadOnlyDictionary<string, long[]> shapes, string key, int axis) =>
        shapes.TryGetValue(key, out var s) && s.Length > axis ? s[axis] : -1;

    static Dictionary<string, int> Count(IReadOnlyDictionary<string, long[]> shapes, Regex pattern, Func<Match, string> group)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var key in shapes.Keys)
        {
            var m = pattern.Match(key);
            if (!m.Success) continue;
            int layer = int.Parse(m.Groups["layer"].Value) + 1;
            string g = group(m);
            counts[g] = Math.Max(counts.GetValueOrDefault(g), layer);
        }
        return counts;
    }

    static int[] Layers(IReadOnlyDictionary<string, long[]> shapes, Regex pattern, int stages, bool oneBased = false)
    {
        var counts = Count(shapes, pattern, m => m.Groups["stage"].Value);
        if (counts.Count != stages) return Array.Empty<int>();
        return Enumerable.Range(oneBased ? 1 : 0, stages).Select(s => counts.GetValueOrDefault(s.ToString())).ToArray();
    }

    [GeneratedRegex(@"^blocks\.(?<layer>\d+)\.")]
    private static partial Regex VitBlock();

    [GeneratedRegex(@"^stages\.(?<stage>\d+)\.blocks\.(?<layer>\d+)\.")]
    private static partial Regex ConvNeXtBlock();

    [GeneratedRegex(@"^layer(?<stage>\d+)\.(?<layer>\d+)\.")]
    private static partial Regex ResNetBlockKey();
}

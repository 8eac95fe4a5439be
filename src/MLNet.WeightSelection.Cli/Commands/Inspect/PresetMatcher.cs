using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Cli.Infrastructure;
using MLNet.WeightSelection.Models;
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
internal static class PresetMatcher
{
    public static IReadOnlyList<PresetMatch> Find(ITensorSource source, string family)
    {
        var shapes = SpecShapes.Of(source);
        var matches = new List<PresetMatch>();
        foreach (string name in ModelRegistry.Names)
        {
            var preset = ModelRegistry.GetSpec(name);
            if (preset.Family != family || SpecShapes.Mismatches(preset, shapes).Count > 0) continue;
            var candidate = Candidate(preset, shapes);
            if (candidate is null) continue;
            var (spec, match) = candidate.Value;
            using var model = spec.CreateModel();
            if (SameShapes(model, shapes)) matches.Add(match with { Preset = name });
        }
        return matches;
    }

    static (ModelSpec, PresetMatch)? Candidate(ModelSpec preset, CheckpointShapes shapes)
    {
        string? classifierWeight = FamilySchemas.ByName(preset.Family).ClassifierKeys
            .FirstOrDefault(k => k.EndsWith(".weight", StringComparison.Ordinal));
        int classes = classifierWeight is not null && shapes.TryGetValue(classifierWeight, out var w) ? (int)w[0] : 0;
        if (!ModelFamilies.Get(preset.Family).TryImageSize(preset, shapes, out int? imageSize)) return null;
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

    static bool SameShapes(ImageClassifier model, CheckpointShapes shapes)
    {
        var state = model.state_dict();
        return state.Count == shapes.Count
            && state.All(kv => shapes.TryGetValue(kv.Key, out var shape) && shape.SequenceEqual(kv.Value.shape));
    }
}

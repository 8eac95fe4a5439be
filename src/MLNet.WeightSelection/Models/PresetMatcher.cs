using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Models;

/// <summary>A preset whose model has exactly a checkpoint's keys and shapes, with the overrides needed.</summary>
/// <param name="Preset">The registered name.</param>
/// <param name="Spec">The preset with the checkpoint's number of classes (and ViT image size).</param>
/// <param name="NumClasses">Classes of the checkpoint's classifier (0: no classifier).</param>
/// <param name="ImageSize">The ViT image size the position embedding implies; null for convolutional families.</param>
internal sealed record PresetMatch(string Preset, ModelSpec Spec, int NumClasses, int? ImageSize)
{
    public override string ToString() =>
        $"{Preset} (num_classes {NumClasses}{(ImageSize is { } s ? $", img_size {s}" : "")})";
}

/// <summary>
/// Finds the registered presets a checkpoint is an instance of. Each preset of the family is first checked against a
/// few telling shapes (so a ViT-L is never built to compare with a ViT-T checkpoint), then built with the checkpoint's
/// number of classes (and ViT image size) and compared key by key, shape by shape. Presets that resolve to the same
/// architecture (pretrained tags of one model) are built once.
/// </summary>
internal static class PresetMatcher
{
    public static IReadOnlyList<PresetMatch> Find(CheckpointShapes shapes, string family)
    {
        var matches = new List<PresetMatch>();
        var verdicts = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (string name in ModelRegistry.Names)
        {
            var preset = ModelRegistry.GetSpec(name);
            if (!string.Equals(preset.Family, family, StringComparison.OrdinalIgnoreCase)) continue;
            if (ModelFamilies.Get(preset.Family).ShapeMismatches(preset, shapes).Count > 0) continue;
            if (Candidate(preset, shapes) is not { } match) continue;
            string json = match.Spec.ToJson(indented: false);
            if (!verdicts.TryGetValue(json, out bool same))
            {
                using var model = match.Spec.CreateModel();
                verdicts[json] = same = SameShapes(model, shapes);
            }
            if (same) matches.Add(match with { Preset = name });
        }
        return matches;
    }

    /// <summary>
    /// The family's presets ordered by how few telling shapes they get wrong, with what they get wrong: what to show
    /// when no preset matches.
    /// </summary>
    public static IReadOnlyList<(string Preset, IReadOnlyList<string> Mismatches)> Nearest(CheckpointShapes shapes, string family, int count) =>
        ModelRegistry.Names
            .Select(name => (Name: name, Spec: ModelRegistry.GetSpec(name)))
            .Where(p => string.Equals(p.Spec.Family, family, StringComparison.OrdinalIgnoreCase))
            .Select(p => (p.Name, ModelFamilies.Get(p.Spec.Family).ShapeMismatches(p.Spec, shapes)))
            .OrderBy(p => p.Item2.Count)
            .ThenBy(p => p.Name, StringComparer.Ordinal)
            .Take(count)
            .ToList();

    static PresetMatch? Candidate(ModelSpec preset, CheckpointShapes shapes)
    {
        string? classifierWeight = FamilySchemas.ByName(preset.Family).ClassifierKeys
            .FirstOrDefault(k => k.EndsWith(".weight", StringComparison.Ordinal));
        int classes = classifierWeight is not null && shapes.TryGetValue(classifierWeight, out var w) ? (int)w[0] : 0;
        if (!ModelFamilies.Get(preset.Family).TryImageSize(preset, shapes, out int? imageSize)) return null;
        try
        {
            return new PresetMatch("", ModelRegistry.WithOverrides(preset, classes, imageSize), classes, imageSize);
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

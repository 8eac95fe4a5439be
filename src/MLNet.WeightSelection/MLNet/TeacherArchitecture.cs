using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection;

/// <summary>
/// Tells the architecture of a teacher checkpoint given without one, from its keys and shapes: the family from the
/// keys (in timm's names, or in a layout a family's checkpoint filter knows: a <c>module.</c> prefix, Meta's ConvNeXt,
/// DeiT-3's <c>gamma_1</c>), then the registered preset whose model has exactly those shapes. It refuses to guess: no
/// match, or presets that differ in something the shapes cannot show (an input convention, a head count), is an
/// error that asks for the architecture.
/// </summary>
internal static class TeacherArchitecture
{
    /// <summary>The preset <paramref name="source"/> is an instance of, with its number of classes (and ViT image size).</summary>
    /// <param name="source">The checkpoint's tensors.</param>
    /// <param name="howToGive">How the caller's user gives an architecture instead, for the error messages.</param>
    /// <exception cref="ArgumentException">The family or the preset cannot be told apart; the message says why.</exception>
    public static PresetMatch Detect(ITensorSource source, string howToGive = "Teacher.FromFile(path, architecture)")
    {
        ArgumentNullException.ThrowIfNull(source);
        var (family, shapes) = Family(source)
            ?? throw new ArgumentException(
                $"Cannot tell the family of the teacher '{source.Origin}' from its keys: they are none of {string.Join(", ", ModelFamilies.Names)} in timm's names, "
                + $"nor a layout one of their checkpoint filters knows. Give its architecture: {howToGive}.");

        var matches = PresetMatcher.Find(shapes, family);
        if (matches.Count == 0)
        {
            var nearest = PresetMatcher.Nearest(shapes, family, 3).Select(p => p.Mismatches.Count == 0
                ? $"{p.Preset} (same telling shapes, other tensors differ)"
                : $"{p.Preset} ({string.Join("; ", p.Mismatches.Take(3))})");
            throw new ArgumentException(
                $"The teacher '{source.Origin}' is a {family} checkpoint, but no registered {family} preset has its keys and shapes; nearest: {string.Join(" | ", nearest)}. "
                + $"Give its architecture as a JSON spec: {howToGive}.");
        }

        var architectures = matches.GroupBy(m => m.Spec.ToJson(indented: false), StringComparer.Ordinal).ToList();
        if (architectures.Count > 1)
            throw new ArgumentException(
                $"The teacher '{source.Origin}' has the shapes of {family} presets that differ in what shapes cannot show (for example the input normalization or the head count): "
                + $"{string.Join(", ", architectures.Select(g => g.First().Preset))}. Give its architecture: {howToGive}.");
        return matches[0];
    }

    /// <summary>The family and the checkpoint's shapes under that family's model keys; null when no family fits.</summary>
    static (string Family, CheckpointShapes Shapes)? Family(ITensorSource source)
    {
        var keys = source.Keys;
        if (FamilySchemas.Detect(keys) is { } schema)
            return (schema.Family, CheckpointShapes.Of(source));

        foreach (var family in ModelFamilies.All)
        {
            if (family.Presets.Count == 0) continue;
            // Key renames do not depend on the size of the model, so any preset's filter serves.
            var filter = family.Presets.Values.First().CreateCheckpointFilter();
            var mapped = filter.MapKeys(keys).Where(m => m.ModelKey is not null).ToList();
            if (!family.Schema.Recognizes(mapped.Select(m => m.ModelKey!))) continue;
            var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
            foreach (var (sourceKey, modelKey) in mapped) shapes[modelKey!] = source.GetInfo(sourceKey).Shape;
            return (family.Name, new CheckpointShapes(shapes));
        }
        return null;
    }
}

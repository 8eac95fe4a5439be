using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection;

/// <summary>
/// The one way from a teacher checkpoint of a known architecture to the tensors selection reads, shared by
/// <see cref="Teacher"/> (so the estimator and <c>ws train</c>) and <c>ws select</c>. A checkpoint already in timm's
/// names is read as it is (a memory-mapped safetensors file then never has to fit in memory). One that the family's
/// checkpoint filter would change (a <c>module.</c> prefix, Meta's original ConvNeXt layout, DeiT-3's
/// <c>gamma_1</c>/<c>gamma_2</c>) is loaded into the teacher's model through that filter first, and its state is read.
/// </summary>
internal static class TeacherCheckpoint
{
    /// <summary>
    /// The tensors to select from. When <c>Filtered</c> is true they are a new <see cref="StateDict"/> the caller owns;
    /// otherwise they are <paramref name="source"/> itself.
    /// </summary>
    /// <exception cref="ArgumentException">The keys are another family's.</exception>
    /// <exception cref="StateDictLoadException">The checkpoint does not fit the architecture, even through its filter.</exception>
    public static (ITensorSource Tensors, bool Filtered) Prepare(ITensorSource source, ModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(spec);
        string? detected = FamilySchemas.Detect(source.Keys)?.Family;
        if (detected is not null && detected != spec.Family)
            throw new ArgumentException($"The teacher '{source.Origin}' is a {detected} checkpoint but its architecture is a {spec.Family}.");

        var mapped = spec.CreateCheckpointFilter().MapKeys(source.Keys);
        if (detected == spec.Family && mapped.All(m => m.ModelKey == m.SourceKey)) return (source, false);

        // The classifier's size comes from the checkpoint, under whatever name the filter maps to it.
        string? classifierWeight = FamilySchemas.ByName(spec.Family).ClassifierKeys.FirstOrDefault(k => k.EndsWith(".weight", StringComparison.Ordinal));
        string? stored = classifierWeight is null ? null : mapped.FirstOrDefault(m => m.ModelKey == classifierWeight).SourceKey;
        int classes = stored is not null ? (int)source.GetInfo(stored).Shape[0] : 0;
        using var model = ModelRegistry.WithOverrides(spec, numClasses: classes).CreateModel();
        // Strict: every key of the architecture's model must come from the checkpoint; the exception lists what does not.
        model.LoadStateDict(source, strict: true);
        return (StateDict.FromModule(model, $"{source.Origin} (loaded as {spec.Family} through its checkpoint filter)"), true);
    }
}

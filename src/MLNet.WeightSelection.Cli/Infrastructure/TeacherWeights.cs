using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Cli.Infrastructure;

/// <summary>
/// The teacher's tensors, ready for selection, checked against its spec when one is given. A checkpoint in timm's
/// names is read straight from the file (memory-mapped safetensors stream) after a shape check against the spec; one
/// that needs the family's checkpoint filter (renamed keys, a <c>module.</c> prefix) is loaded into the model first.
/// </summary>
internal sealed class TeacherWeights : IDisposable
{
    readonly IDisposable? _loaded;

    TeacherWeights(ITensorSource tensors, string family, bool filtered, IDisposable? loaded)
    {
        Tensors = tensors;
        Family = family;
        Filtered = filtered;
        _loaded = loaded;
    }

    /// <summary>The tensors selection reads.</summary>
    public ITensorSource Tensors { get; }

    /// <summary>The teacher's family.</summary>
    public string Family { get; }

    /// <summary>True when the checkpoint went through the family's checkpoint filter.</summary>
    public bool Filtered { get; }

    public static TeacherWeights Prepare(WeightFile file, ModelSpec? spec, string specOption)
    {
        var detected = FamilySchemas.Detect(file.Tensors.Keys)?.Family;
        if (spec is null)
        {
            if (detected is null)
                throw new CliException($"Cannot tell the teacher's family from the keys of '{file.Path}' (no vit, convnext or resnet keys in timm's naming); "
                    + $"give {specOption} so the checkpoint can be loaded through the family's checkpoint filter.");
            return new TeacherWeights(file.Tensors, detected, false, null);
        }

        if (detected == spec.Family)
        {
            // timm's names already: check the telling shapes against the spec and stream straight from the file,
            // without building the teacher (a memory-mapped teacher then never has to fit in memory).
            var mismatches = SpecShapes.Mismatches(spec, SpecShapes.Of(file.Tensors));
            if (mismatches.Count > 0)
                throw new CliException($"The teacher '{file.Path}' does not fit {specOption}: {string.Join("; ", mismatches)}.");
            return new TeacherWeights(file.Tensors, spec.Family, false, null);
        }

        if (detected is not null)
            throw new CliException($"The teacher '{file.Path}' is a {detected} checkpoint but {specOption} is a {spec.Family}.");

        // Other names (a module. prefix, an original release's layout): load through the family's checkpoint filter.
        var schema = FamilySchemas.ByName(spec.Family);
        string? classifierWeight = schema.ClassifierKeys.FirstOrDefault(k => k.EndsWith(".weight", StringComparison.Ordinal));
        // The classifier's key may carry DataParallel's module. prefix, which the filter strips.
        string? stored = classifierWeight is null ? null
            : file.Tensors.Keys.FirstOrDefault(k => WithoutModulePrefix(k) == classifierWeight);
        int classes = stored is not null ? (int)file.Tensors.GetInfo(stored).Shape[0] : 0;
        var sized = ModelRegistry.WithOverrides(spec, numClasses: classes);
        using var model = sized.CreateModel();
        // Strict: every key of the spec's model must come from the checkpoint; the exception lists what does not fit.
        model.LoadStateDict(file.Tensors, strict: true);
        var state = StateDict.FromModule(model, $"{file.Path} (loaded as {spec.Family} through its checkpoint filter)");
        return new TeacherWeights(state, spec.Family, true, state);
    }

    static string WithoutModulePrefix(string key)
    {
        while (key.StartsWith("module.", StringComparison.Ordinal)) key = key["module.".Length..];
        return key;
    }

    /// <inheritdoc />
    public void Dispose() => _loaded?.Dispose();
}

using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Cli.Infrastructure;

/// <summary>
/// The teacher's tensors, ready for selection, checked against its spec when one is given, through the library's
/// <see cref="TeacherCheckpoint"/>: a checkpoint in timm's names is read straight from the file (memory-mapped
/// safetensors stream) after a shape check against the spec; one that needs the family's checkpoint filter (renamed
/// keys, a <c>module.</c> prefix, DeiT-3's <c>gamma_1</c>) is loaded into the model first.
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
            if (detected is not null) return new TeacherWeights(file.Tensors, detected, false, null);
            // Another layout (a module. prefix, Meta's ConvNeXt, DeiT-3): the architecture, told from keys and shapes,
            // lets the family's checkpoint filter load it.
            try
            {
                spec = TeacherArchitecture.Detect(file.Tensors, specOption).Spec;
            }
            catch (ArgumentException e)
            {
                throw new CliException(e.Message);
            }
        }

        if (detected is not null && detected != spec.Family)
            throw new CliException($"The teacher '{file.Path}' is a {detected} checkpoint but {specOption} is a {spec.Family}.");

        // The library's one teacher path: timm's names stream from the file; other layouts go through the family's filter.
        var (tensors, filtered) = TeacherCheckpoint.Prepare(file.Tensors, spec);
        if (filtered) return new TeacherWeights(tensors, spec.Family, true, tensors);

        // Check the telling shapes against the spec before any selection, for a message in the option's words.
        var mismatches = SpecShapes.Mismatches(spec, SpecShapes.Of(file.Tensors));
        if (mismatches.Count > 0)
            throw new CliException($"The teacher '{file.Path}' does not fit {specOption}: {string.Join("; ", mismatches)}.");
        return new TeacherWeights(file.Tensors, spec.Family, false, null);
    }

    /// <inheritdoc />
    public void Dispose() => _loaded?.Dispose();
}

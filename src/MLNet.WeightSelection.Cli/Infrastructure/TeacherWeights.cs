using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Cli.Infrastructure;

/// <summary>
/// The teacher's tensors, ready for selection, checked against its spec when one is given. A checkpoint whose keys and
/// shapes already are the spec's model's is read straight from the file (memory-mapped safetensors stream); one that
/// needs the family's checkpoint filter (renamed keys, a <c>module.</c> prefix, resampled position embeddings) is
/// loaded into the model first.
/// </summary>
internal sealed class TeacherWeights : IDisposable
{
    readonly IDisposable? _loaded;

    TeacherWeights(ITensorSource tensors, string family, ModelSpec? spec, bool filtered, IDisposable? loaded)
    {
        Tensors = tensors;
        Family = family;
        Spec = spec;
        Filtered = filtered;
        _loaded = loaded;
    }

    /// <summary>The tensors selection reads.</summary>
    public ITensorSource Tensors { get; }

    /// <summary>The teacher's family.</summary>
    public string Family { get; }

    /// <summary>The teacher's spec (with its checkpoint's number of classes), when one was given.</summary>
    public ModelSpec? Spec { get; }

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
            return new TeacherWeights(file.Tensors, detected, null, false, null);
        }

        var schema = FamilySchemas.ByName(spec.Family);
        string? classifierWeight = schema.ClassifierKeys.FirstOrDefault(k => k.EndsWith(".weight", StringComparison.Ordinal));
        int classes = classifierWeight is not null && file.Tensors.Contains(classifierWeight)
            ? (int)file.Tensors.GetInfo(classifierWeight).Shape[0] : 0;
        var sized = ModelRegistry.WithOverrides(spec, numClasses: classes);
        var model = sized.CreateModel();
        try
        {
            if (file.Input is { } input) model.Input = input;
            var expected = model.state_dict();
            bool exact = expected.Count == file.Tensors.Keys.Count && expected.All(kv =>
                file.Tensors.Contains(kv.Key) && file.Tensors.GetInfo(kv.Key).Shape.SequenceEqual(kv.Value.shape));
            if (exact)
            {
                model.Dispose();
                return new TeacherWeights(file.Tensors, spec.Family, sized, false, null);
            }
            // Strict: every key of the spec's model must come from the checkpoint; the exception lists what does not fit.
            model.LoadStateDict(file.Tensors, strict: true);
            var state = StateDict.FromModule(model, $"{file.Path} (loaded as {spec.Family} through its checkpoint filter)");
            model.Dispose();
            return new TeacherWeights(state, spec.Family, sized, true, state);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _loaded?.Dispose();
}

using MLNet.WeightSelection.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models;

/// <summary>Copies a checkpoint into a model by timm key, through the model's <see cref="CheckpointFilter"/>.</summary>
internal static class StateDictLoader
{
    public static StateDictLoadResult Load(ImageClassifier model, ITensorSource source, bool strict)
    {
        ArgumentNullException.ThrowIfNull(source);
        var targets = model.state_dict();
        var filter = model.CheckpointFilter;

        var missing = new List<string>();
        var unexpected = new List<string>();
        var mismatches = new List<string>();
        var bySourceKey = new Dictionary<string, string>(StringComparer.Ordinal);
        var byModelKey = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (sourceKey, modelKey) in filter.MapKeys(source.Keys))
        {
            if (modelKey is null) continue;
            if (!targets.ContainsKey(modelKey)) { unexpected.Add(sourceKey == modelKey ? sourceKey : $"{sourceKey} (as {modelKey})"); continue; }
            if (byModelKey.TryGetValue(modelKey, out var other))
            {
                mismatches.Add($"{modelKey}: given twice, by '{other}' and '{sourceKey}'");
                continue;
            }
            byModelKey[modelKey] = sourceKey;
        }
        missing.AddRange(targets.Keys.Where(k => !byModelKey.ContainsKey(k)));

        // Shapes are checked from the headers first; only tensors that need adapting are read before any copy.
        var adapted = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (modelKey, sourceKey) in byModelKey)
            {
                var modelShape = targets[modelKey].shape;
                var info = source.GetInfo(sourceKey);
                if (info.Shape.SequenceEqual(modelShape)) continue;
                using var value = source.Read(sourceKey);
                var fitted = filter.Adapt(modelKey, value, modelShape);
                if (fitted is not null && fitted.shape.SequenceEqual(modelShape)) adapted[modelKey] = fitted;
                else
                {
                    fitted?.Dispose();
                    mismatches.Add($"{modelKey}: checkpoint [{string.Join(", ", info.Shape)}] vs model [{string.Join(", ", modelShape)}]");
                }
            }

            if (mismatches.Count > 0 || (strict && (missing.Count > 0 || unexpected.Count > 0)))
                throw new StateDictLoadException(source.Origin, Describe(model), missing, strict ? unexpected : Array.Empty<string>(), mismatches);

            using (no_grad())
            {
                foreach (var (modelKey, sourceKey) in byModelKey)
                {
                    var target = targets[modelKey];
                    if (adapted.TryGetValue(modelKey, out var value)) { target.copy_(value); continue; }
                    using var read = source.Read(sourceKey);
                    target.copy_(read);
                }
            }
        }
        finally
        {
            foreach (var t in adapted.Values) t.Dispose();
        }
        return new StateDictLoadResult(missing, unexpected, byModelKey.Keys.ToList());
    }

    static string Describe(ImageClassifier model) => $"{model.GetType().Name} ({model.Spec.Family})";
}

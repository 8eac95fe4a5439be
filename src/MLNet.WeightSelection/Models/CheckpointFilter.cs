using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models;

/// <summary>
/// Adapts a foreign checkpoint to a model while it loads, like timm's per-family <c>checkpoint_filter_fn</c>:
/// renames keys (<see cref="MapKeys"/>) and reshapes or resamples tensors whose shape differs from the model's
/// (<see cref="Adapt"/>). The default only strips the <c>module.</c> prefix that DataParallel/DDP checkpoints carry.
/// </summary>
public class CheckpointFilter
{
    /// <summary>The family-neutral filter: strips <c>module.</c>, adapts nothing.</summary>
    public static CheckpointFilter Default { get; } = new();

    /// <summary>
    /// For each checkpoint key, the model key it loads into, or null to drop it (timm drops e.g. ViT's old
    /// <c>pre_logits</c>). Sees every key at once, so a filter can recognize a checkpoint's origin.
    /// </summary>
    public virtual IReadOnlyList<(string SourceKey, string? ModelKey)> MapKeys(IReadOnlyList<string> sourceKeys) =>
        sourceKeys.Select(k => (k, (string?)MapKey(StripModulePrefix(k)))).ToList();

    /// <summary>Renames one key that has lost its <c>module.</c> prefix; null drops it. The default keeps it.</summary>
    protected virtual string? MapKey(string key) => key;

    /// <summary>
    /// A tensor for <paramref name="modelKey"/> with shape <paramref name="modelShape"/> made from
    /// <paramref name="value"/> (whose shape differs), or null when this filter cannot adapt it (then loading reports a
    /// shape mismatch). The result is a new tensor owned by the caller; <paramref name="value"/> stays the caller's.
    /// </summary>
    public virtual Tensor? Adapt(string modelKey, Tensor value, long[] modelShape) => null;

    /// <summary>Removes any leading <c>module.</c> prefixes.</summary>
    protected static string StripModulePrefix(string key)
    {
        while (key.StartsWith("module.", StringComparison.Ordinal)) key = key["module.".Length..];
        return key;
    }

    /// <summary>
    /// Reshapes between a Linear weight [out, in] and a 1×1 convolution weight [out, in, 1, 1] (either way), which
    /// hold the same numbers; null when the shapes are not such a pair.
    /// </summary>
    protected static Tensor? ReshapePointwise(Tensor value, long[] modelShape)
    {
        bool linearToConv = value.dim() == 2 && modelShape is [var o, var i, 1, 1] && value.shape[0] == o && value.shape[1] == i;
        bool convToLinear = value.dim() == 4 && value.shape[2] == 1 && value.shape[3] == 1
            && modelShape is [var o2, var i2] && value.shape[0] == o2 && value.shape[1] == i2;
        return linearToConv || convToLinear ? value.reshape(modelShape).contiguous() : null;
    }
}

using System.Text.RegularExpressions;
using MLNet.WeightSelection.Checkpoints;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.Vit;

/// <summary>
/// timm's ViT <c>checkpoint_filter_fn</c>, the parts that apply to this family: resamples <c>pos_embed</c> to the
/// model's grid (bicubic, antialiased, class token kept), reshapes a flat patch projection to a convolution,
/// maps DeiT-3's <c>gamma_1</c>/<c>gamma_2</c> to <c>ls1.gamma</c>/<c>ls2.gamma</c>, drops <c>pre_logits</c>.
/// </summary>
public sealed partial class VitCheckpointFilter : CheckpointFilter
{
    readonly VisionTransformerSpec _spec;

    /// <summary>Creates the filter for a model built from <paramref name="spec"/>.</summary>
    public VitCheckpointFilter(VisionTransformerSpec spec) => _spec = spec;

    /// <inheritdoc />
    protected override string? MapKey(string key)
    {
        if (key.Contains("pre_logits", StringComparison.Ordinal)) return null;
        return GammaKey().Replace(key, "ls$1.gamma");
    }

    /// <inheritdoc />
    public override Tensor? Adapt(string modelKey, Tensor value, long[] modelShape)
    {
        if (modelKey == "pos_embed" && value.dim() == 3 && modelShape.Length == 3 && value.shape[2] == modelShape[2])
            return PositionEmbeddings.Resample(value, (_spec.GridSize, _spec.GridSize), _spec.NumPrefixTokens);
        if (modelKey == "patch_embed.proj.weight" && value.dim() < 4 && value.numel() == modelShape.Aggregate(1L, (a, b) => a * b))
            return value.reshape(modelShape).contiguous();
        return null;
    }

    [GeneratedRegex(@"gamma_([0-9])")]
    private static partial Regex GammaKey();
}

using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.ConvNeXt;

/// <summary>
/// timm's ConvNeXt <c>checkpoint_filter_fn</c>: renames the original (Facebook) checkpoints' keys to timm's
/// (<c>downsample_layers</c>, <c>dwconv</c>, <c>pwconv</c>, <c>norm</c>, <c>head</c>), and maps MLP weights between the
/// Linear form [out, in] and the 1×1-conv form [out, in, 1, 1], so a conv_mlp = false checkpoint loads into a
/// conv_mlp = true model and back.
/// </summary>
public sealed partial class ConvNeXtCheckpointFilter : CheckpointFilter
{
    /// <summary>The shared instance (the filter has no state).</summary>
    public static ConvNeXtCheckpointFilter Instance { get; } = new();

    /// <inheritdoc />
    public override IReadOnlyList<(string SourceKey, string? ModelKey)> MapKeys(IReadOnlyList<string> sourceKeys)
    {
        var stripped = sourceKeys.Select(StripModulePrefix).ToList();
        bool facebook = !stripped.Contains("head.norm.weight") && !stripped.Any(k => k.StartsWith("norm_pre.", StringComparison.Ordinal))
            && stripped.Any(k => k.StartsWith("downsample_layers.", StringComparison.Ordinal));
        return sourceKeys.Select((k, i) => (k, (string?)(facebook ? FromFacebook(stripped[i]) : stripped[i]))).ToList();
    }

    /// <inheritdoc />
    public override Tensor? Adapt(string modelKey, Tensor value, long[] modelShape) =>
        MlpWeight().IsMatch(modelKey) ? ReshapePointwise(value, modelShape) : null;

    static string FromFacebook(string k)
    {
        k = k.Replace("downsample_layers.0.", "stem.", StringComparison.Ordinal);
        k = FbStageBlock().Replace(k, "stages.$1.blocks.$2");
        k = FbDownsample().Replace(k, "stages.$1.downsample.$2");
        k = k.Replace("dwconv", "conv_dw", StringComparison.Ordinal).Replace("pwconv", "mlp.fc", StringComparison.Ordinal);
        k = k.Replace("head.", "head.fc.", StringComparison.Ordinal);
        if (k.StartsWith("norm.", StringComparison.Ordinal)) k = "head." + k;
        return k;
    }

    [GeneratedRegex(@"stages\.([0-9]+)\.([0-9]+)")]
    private static partial Regex FbStageBlock();

    [GeneratedRegex(@"downsample_layers\.([0-9]+)\.([0-9]+)")]
    private static partial Regex FbDownsample();

    [GeneratedRegex(@"^stages\.[0-9]+\.blocks\.[0-9]+\.mlp\.fc[12]\.weight$")]
    private static partial Regex MlpWeight();
}

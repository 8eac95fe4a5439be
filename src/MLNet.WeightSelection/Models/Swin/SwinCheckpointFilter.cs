using System.Globalization;
using System.Text.RegularExpressions;
using MLNet.WeightSelection.Checkpoints;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.Swin;

/// <summary>
/// timm's Swin <c>checkpoint_filter_fn</c>, the parts that apply here: drops the buffers older checkpoints saved
/// (<c>relative_position_index</c>, <c>attn_mask</c>); in Microsoft's original layout (no <c>head.fc.weight</c>) moves
/// each stage's trailing <c>layers.S.downsample</c> to the start of stage S + 1 and renames <c>head.</c> to
/// <c>head.fc.</c>; resamples a relative position bias table made for another window over its (2w−1)×(2w−1) grid
/// (bicubic with antialiasing, as a ViT's position embedding; timm's <c>resize_rel_pos_bias_table</c> uses a geometric-progression interpolation instead, so a
/// resampled table is close to timm's, not equal).
/// </summary>
public sealed partial class SwinCheckpointFilter : CheckpointFilter
{
    /// <summary>Creates the filter for a model built from <paramref name="spec"/> (the target shapes come with each tensor).</summary>
    public SwinCheckpointFilter(SwinSpec spec) => ArgumentNullException.ThrowIfNull(spec);

    /// <inheritdoc />
    public override IReadOnlyList<(string SourceKey, string? ModelKey)> MapKeys(IReadOnlyList<string> sourceKeys)
    {
        var stripped = sourceKeys.Select(StripModulePrefix).ToList();
        bool original = !stripped.Contains("head.fc.weight") && stripped.Contains("head.weight");
        return sourceKeys.Zip(stripped, (source, key) => (source, Map(key, original))).ToList();
    }

    static string? Map(string key, bool original)
    {
        if (key.EndsWith("relative_position_index", StringComparison.Ordinal) || key.EndsWith("attn_mask", StringComparison.Ordinal))
            return null;
        if (!original) return key;
        key = Downsample().Replace(key, m =>
            $"layers.{int.Parse(m.Groups["stage"].Value, CultureInfo.InvariantCulture) + 1}.downsample");
        return key.StartsWith("head.", StringComparison.Ordinal) ? "head.fc." + key["head.".Length..] : key;
    }

    /// <inheritdoc />
    public override Tensor? Adapt(string modelKey, Tensor value, long[] modelShape)
    {
        if (modelKey.EndsWith(".relative_position_bias_table", StringComparison.Ordinal) && value.dim() == 2
            && modelShape.Length == 2 && value.shape[1] == modelShape[1])
            return ResampleBiasTable(value, modelShape[0]);
        return null;
    }

    /// <summary>
    /// A [(2w−1)², heads] table resampled to <paramref name="rows"/> = (2w′−1)² rows over its square grid (bicubic,
    /// antialiased); null when either row count is not a square.
    /// </summary>
    internal static Tensor? ResampleBiasTable(Tensor table, long rows)
    {
        int side = (int)Math.Round(Math.Sqrt(rows));
        int oldSide = (int)Math.Round(Math.Sqrt(table.shape[0]));
        if ((long)side * side != rows || (long)oldSide * oldSide != table.shape[0]) return null;
        using var scope = NewDisposeScope();
        var resized = PositionEmbeddings.Resample(table.unsqueeze(0), (side, side), numPrefixTokens: 0);
        return resized.squeeze(0).contiguous().MoveToOuterDisposeScope();
    }

    [GeneratedRegex(@"^layers\.(?<stage>\d+)\.downsample")]
    private static partial Regex Downsample();
}

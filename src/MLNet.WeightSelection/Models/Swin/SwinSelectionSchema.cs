using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Models.Swin;

/// <summary>The swin family's selection schema: its widths and component map, which Selection/ consumes.</summary>
internal static class SwinSelectionSchema
{
    /// <summary>
    /// Swin Transformer (timm <c>swin_transformer.py</c>). Widths: per stage its residual width <c>layers.{s}</c> (the
    /// patch embedding's output and norm for stage 0, the patch merging's <c>reduction</c> output for the others, every
    /// norm1/norm2, attention proj out, MLP fc2 out); the patch merging's input is four blocks of the previous stage's
    /// width (the 2×2 neighbours concatenated), so its <c>norm</c> and its <c>reduction</c>'s input axis take that
    /// stage's indices in each block; per block <c>layers.{s}.blocks.{i}.attn.inner</c> (q, k and v are three blocks
    /// of it in the fused <c>qkv</c>; proj's input uses it too), <c>layers.{s}.blocks.{i}.attn.heads</c> (the head axis
    /// of the relative position bias table: uniform over heads, or with whole-head selection the heads the inner width
    /// keeps, counted from the table's sizes) and <c>layers.{s}.blocks.{i}.mlp.hidden</c>;
    /// <c>features</c> (the final norm and the classifier's input), tied to the last stage. The table's row axis is a
    /// (2w−1)×(2w−1) grid: resampled when the windows differ.
    /// </summary>
    public static SelectionSchema Schema { get; } = new()
    {
        Family = SwinSpec.FamilyName,
        Signature = new[] { "patch_embed.proj.weight", "layers.{s}.blocks.{i}.attn.relative_position_bias_table" },
        LayerGroups = new[] { "layers.{s}.blocks.{i}" },
        ClassifierKeys = new[] { "head.fc.weight", "head.fc.bias" },
        AttentionWidths = new[] { "layers.{s}.blocks.{i}.attn.inner" },
        // The head count changes from stage to stage; the bias table shows each block's.
        HeadCountWidths = new Dictionary<string, string>
        {
            ["layers.{s}.blocks.{i}.attn.inner"] = "layers.{s}.blocks.{i}.attn.heads",
        },
        Rules = new WidthRule[]
        {
            new("patch_embed.proj.*", W("layers.0")),
            new("patch_embed.norm.*", W("layers.0")),
            new("layers.{s}.downsample.norm.*", AxisBinding.Fused(4, "layers.{s-1}")),
            new("layers.{s}.downsample.reduction.weight", W("layers.{s}"), AxisBinding.Fused(4, "layers.{s-1}")),
            new("layers.{s}.blocks.{i}.norm1.*", W("layers.{s}")),
            new("layers.{s}.blocks.{i}.norm2.*", W("layers.{s}")),
            new("layers.{s}.blocks.{i}.attn.relative_position_bias_table", AxisBinding.Tokens, W("layers.{s}.blocks.{i}.attn.heads")),
            new("layers.{s}.blocks.{i}.attn.qkv.weight", AxisBinding.Fused(3, "layers.{s}.blocks.{i}.attn.inner"), W("layers.{s}")),
            new("layers.{s}.blocks.{i}.attn.qkv.bias", AxisBinding.Fused(3, "layers.{s}.blocks.{i}.attn.inner")),
            new("layers.{s}.blocks.{i}.attn.proj.weight", W("layers.{s}"), W("layers.{s}.blocks.{i}.attn.inner")),
            new("layers.{s}.blocks.{i}.attn.proj.bias", W("layers.{s}")),
            new("layers.{s}.blocks.{i}.mlp.fc1.weight", W("layers.{s}.blocks.{i}.mlp.hidden"), W("layers.{s}")),
            new("layers.{s}.blocks.{i}.mlp.fc1.bias", W("layers.{s}.blocks.{i}.mlp.hidden")),
            new("layers.{s}.blocks.{i}.mlp.fc2.weight", W("layers.{s}"), W("layers.{s}.blocks.{i}.mlp.hidden")),
            new("layers.{s}.blocks.{i}.mlp.fc2.bias", W("layers.{s}")),
            new("norm.*", W("features")),
            new("head.fc.weight", Unbound, W("features")),
            new("head.fc.bias", Unbound),
        },
        Ties = SwinTies,
    };

    // The final norm runs on the last stage's map.
    static IEnumerable<WidthTie> SwinTies(IReadOnlyCollection<string> studentKeys)
    {
        var block = KeyPattern.Prefix("layers.{s}.blocks.{i}");
        int last = -1;
        foreach (var key in studentKeys)
            if (block.TryMatch(key, out var c)) last = Math.Max(last, c["s"]);
        if (last >= 0) yield return new WidthTie($"layers.{last}", "features");
    }

    static AxisBinding W(string width) => AxisBinding.To(width);

    static AxisBinding Unbound => AxisBinding.None;
}

using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Models.Vit;

/// <summary>The vit family's selection schema: its widths and component map, which Selection/ consumes.</summary>
internal static class VitSelectionSchema
{
    /// <summary>
    /// Vision Transformer (timm <c>vision_transformer.py</c>). Widths: <c>embed</c> (the residual stream: patch
    /// embedding out, tokens, position embedding, every norm, attention proj out, MLP fc2 out, layer-scale gammas,
    /// the head's input); per block <c>blocks.{i}.attn.inner</c> (q, k and v are three blocks of it in the fused
    /// <c>qkv</c>; proj's input uses it too) and <c>blocks.{i}.mlp.hidden</c>.
    /// </summary>
    public static SelectionSchema Schema { get; } = new()
    {
        Family = "vit",
        Signature = new[] { "patch_embed.proj.weight", "blocks.{i}.attn.qkv.weight" },
        LayerGroups = new[] { "blocks.{i}" },
        ClassifierKeys = new[] { "head.weight", "head.bias" },
        AttentionWidths = new[] { "blocks.{i}.attn.inner" },
        PrefixTokenKeys = new[] { "cls_token", "dist_token", "reg_token" },
        Rules = new WidthRule[]
        {
            new("cls_token", Unbound, Unbound, W("embed")),
            new("dist_token", Unbound, Unbound, W("embed")),
            new("reg_token", Unbound, Unbound, W("embed")),
            new("pos_embed", Unbound, AxisBinding.Tokens, W("embed")),
            new("patch_embed.proj.*", W("embed")),
            new("patch_embed.norm.*", W("embed")),
            new("norm_pre.*", W("embed")),
            new("blocks.{i}.norm1.*", W("embed")),
            new("blocks.{i}.norm2.*", W("embed")),
            new("blocks.{i}.attn.qkv.weight", AxisBinding.Fused(3, "blocks.{i}.attn.inner"), W("embed")),
            new("blocks.{i}.attn.qkv.bias", AxisBinding.Fused(3, "blocks.{i}.attn.inner")),
            new("blocks.{i}.attn.proj.weight", W("embed"), W("blocks.{i}.attn.inner")),
            new("blocks.{i}.attn.proj.bias", W("embed")),
            new("blocks.{i}.ls1.gamma", W("embed")),
            new("blocks.{i}.ls2.gamma", W("embed")),
            new("blocks.{i}.mlp.fc1.weight", W("blocks.{i}.mlp.hidden"), W("embed")),
            new("blocks.{i}.mlp.fc1.bias", W("blocks.{i}.mlp.hidden")),
            new("blocks.{i}.mlp.fc2.weight", W("embed"), W("blocks.{i}.mlp.hidden")),
            new("blocks.{i}.mlp.fc2.bias", W("embed")),
            new("norm.*", W("embed")),
            new("fc_norm.*", W("embed")),
            new("head.weight", Unbound, W("embed")),
            new("head.bias", Unbound),
        },
    };

    static AxisBinding W(string width) => AxisBinding.To(width);

    static AxisBinding Unbound => AxisBinding.None;
}

namespace MLNet.WeightSelection.Models.Vit;

/// <summary>
/// timm's ViT presets that this family builds exactly (timm's <c>vision_transformer.py</c> model functions):
/// tiny/16, small/32, small/16, small/8, base/32, base/16, base/8, large/32 and large/16, all at 224 px with
/// timm's augreg input convention (Inception mean/std 0.5, bicubic). timm has no tiny/8, tiny/32 or large/8.
/// </summary>
public static class VitPresets
{
    /// <summary>Every preset by name.</summary>
    public static IReadOnlyDictionary<string, VisionTransformerSpec> All { get; } = new Dictionary<string, VisionTransformerSpec>
    {
        ["vit_tiny_patch16_224"] = Make(16, 192, 12, 3),
        ["vit_small_patch32_224"] = Make(32, 384, 12, 6),
        ["vit_small_patch16_224"] = Make(16, 384, 12, 6),
        ["vit_small_patch8_224"] = Make(8, 384, 12, 6),
        ["vit_base_patch32_224"] = Make(32, 768, 12, 12),
        ["vit_base_patch16_224"] = Make(16, 768, 12, 12),
        ["vit_base_patch8_224"] = Make(8, 768, 12, 12),
        ["vit_large_patch32_224"] = Make(32, 1024, 24, 16),
        ["vit_large_patch16_224"] = Make(16, 1024, 24, 16),
    };

    static VisionTransformerSpec Make(int patch, int dim, int depth, int heads) => new()
    {
        ImageSize = 224,
        PatchSize = patch,
        EmbedDim = dim,
        Depth = depth,
        NumHeads = heads,
        Input = InputConvention.Inception,
    };
}

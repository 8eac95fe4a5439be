namespace MLNet.WeightSelection.Models.Swin;

/// <summary>
/// Swin Transformer presets. From timm's <c>swin_transformer.py</c>, exactly: swin_tiny_patch4_window7_224
/// (embed 96, depths 2-2-6-2, heads 3-6-12-24; 28,288,354 parameters at 1000 classes), swin_small_patch4_window7_224
/// (depths 2-2-18-2; 49,606,258) and swin_base_patch4_window7_224 (embed 128, heads 4-8-16-32; 87,768,224), at 224 px
/// with ImageNet mean/std and bicubic resizing (timm's <c>_cfg</c>), drop_path_rate 0.1 (timm's class default).
/// This project's own: <c>swin_mini</c>, two stages of 16 and 32 channels on 32 px images (patch 2; window 3, so
/// both stages pad their 16 and 8 px maps to whole windows) for tests and small images.
/// </summary>
public static class SwinPresets
{
    /// <summary>Every preset by name.</summary>
    public static IReadOnlyDictionary<string, SwinSpec> All { get; } = new Dictionary<string, SwinSpec>
    {
        ["swin_tiny_patch4_window7_224"] = Make(96, new[] { 2, 2, 6, 2 }, new[] { 3, 6, 12, 24 }),
        ["swin_small_patch4_window7_224"] = Make(96, new[] { 2, 2, 18, 2 }, new[] { 3, 6, 12, 24 }),
        ["swin_base_patch4_window7_224"] = Make(128, new[] { 2, 2, 18, 2 }, new[] { 4, 8, 16, 32 }),
        ["swin_mini"] = new SwinSpec
        {
            ImageSize = 32,
            PatchSize = 2,
            EmbedDim = 16,
            Depths = new[] { 2, 1 },
            NumHeads = new[] { 1, 2 },
            WindowSize = 3,
            Input = InputConvention.ImageNet,
        },
    };

    static SwinSpec Make(int embedDim, int[] depths, int[] heads) => new()
    {
        ImageSize = 224,
        PatchSize = 4,
        WindowSize = 7,
        EmbedDim = embedDim,
        Depths = depths,
        NumHeads = heads,
        Input = InputConvention.ImageNet,
    };
}

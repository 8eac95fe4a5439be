namespace MLNet.WeightSelection.Models.ConvNeXt;

/// <summary>
/// timm's ConvNeXt presets (<c>convnext.py</c>): atto, femto, pico, nano with conv_mlp = true (1×1-conv MLPs), tiny,
/// small, base with Linear MLPs; ImageNet mean/std, bicubic, 224 px.
/// </summary>
public static class ConvNeXtPresets
{
    /// <summary>Every preset by name.</summary>
    public static IReadOnlyDictionary<string, ConvNeXtSpec> All { get; } = new Dictionary<string, ConvNeXtSpec>
    {
        ["convnext_atto"] = Make(new[] { 2, 2, 6, 2 }, new[] { 40, 80, 160, 320 }, convMlp: true),
        ["convnext_femto"] = Make(new[] { 2, 2, 6, 2 }, new[] { 48, 96, 192, 384 }, convMlp: true),
        ["convnext_pico"] = Make(new[] { 2, 2, 6, 2 }, new[] { 64, 128, 256, 512 }, convMlp: true),
        ["convnext_nano"] = Make(new[] { 2, 2, 8, 2 }, new[] { 80, 160, 320, 640 }, convMlp: true),
        ["convnext_tiny"] = Make(new[] { 3, 3, 9, 3 }, new[] { 96, 192, 384, 768 }, convMlp: false),
        ["convnext_small"] = Make(new[] { 3, 3, 27, 3 }, new[] { 96, 192, 384, 768 }, convMlp: false),
        ["convnext_base"] = Make(new[] { 3, 3, 27, 3 }, new[] { 128, 256, 512, 1024 }, convMlp: false),
    };

    static ConvNeXtSpec Make(int[] depths, int[] dims, bool convMlp) => new()
    {
        Depths = depths,
        Dims = dims,
        ConvMlp = convMlp,
        ImageSize = 224,
        Input = InputConvention.ImageNet,
    };
}

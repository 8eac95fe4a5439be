namespace MLNet.WeightSelection.Models.EfficientNet;

/// <summary>
/// EfficientNet presets. From timm's <c>efficientnet.py</c>, exactly: efficientnet_b0 (channel × 1.0, depth × 1.0),
/// b1 (1.0, 1.1), b2 (1.1, 1.2), b3 (1.2, 1.4), B0's arch_def, stem 32 and head <c>round_channels(1280 · channel)</c>, with
/// the input size and convention of timm's default pretrained tag (b0 224, b1 240 with Inception mean/std from its
/// ra4 weights, b2 256, b3 288; bicubic). This project's own: <c>efficientnet_mini</c>, a four-stage network of 16–32
/// channels (stem 16, head 128) for tests and small images.
/// </summary>
public static class EfficientNetPresets
{
    /// <summary>Every preset by name.</summary>
    public static IReadOnlyDictionary<string, EfficientNetSpec> All { get; } = new Dictionary<string, EfficientNetSpec>
    {
        ["efficientnet_b0"] = Make(1.0, 1.0, 224, InputConvention.ImageNet),
        ["efficientnet_b1"] = Make(1.0, 1.1, 240, InputConvention.Inception),
        ["efficientnet_b2"] = Make(1.1, 1.2, 256, InputConvention.ImageNet),
        ["efficientnet_b3"] = Make(1.2, 1.4, 288, InputConvention.ImageNet),
        ["efficientnet_mini"] = new EfficientNetSpec
        {
            ArchDef = new[]
            {
                new[] { "ds_r1_k3_s1_e1_c8_se0.25" },
                new[] { "ir_r2_k3_s2_e6_c16_se0.25" },
                new[] { "ir_r2_k5_s2_e6_c24_se0.25" },
                new[] { "ir_r1_k3_s2_e6_c32_se0.25" },
            },
            StemSize = 16,
            NumFeatures = 128,
            ImageSize = 64,
            Input = InputConvention.ImageNet,
        },
    };

    static EfficientNetSpec Make(double channelMultiplier, double depthMultiplier, int imageSize, InputConvention input)
    {
        var spec = new EfficientNetSpec { ChannelMultiplier = channelMultiplier, DepthMultiplier = depthMultiplier, ImageSize = imageSize, Input = input };
        return spec with { NumFeatures = spec.RoundChannels(1280) };
    }
}

namespace MLNet.WeightSelection.Models.ResNet;

/// <summary>
/// ResNet presets. From timm's <c>resnet.py</c>, exactly: resnet10t and resnet14t (deep tiered stem of width 32,
/// avg_down; pretrained at 176 px), resnet18, resnet26, resnet34, resnet50 (plain 7×7 stem). This project's own:
/// <c>resnet10</c> (plain-stem ResNet-10, [1, 1, 1, 1] basic blocks: a layer-selection student of resnet18) and
/// <c>resnet18_half</c> (half-width ResNet-18: plain stem of 32 channels via <see cref="ResNetSpec.PlainStemWidth"/>,
/// channels 32/64/128/256). ImageNet mean/std, bicubic.
/// </summary>
public static class ResNetPresets
{
    /// <summary>Every preset by name.</summary>
    public static IReadOnlyDictionary<string, ResNetSpec> All { get; } = new Dictionary<string, ResNetSpec>
    {
        ["resnet10"] = Make(ResNetBlock.Basic, 1, 1, 1, 1),
        ["resnet10t"] = Make(ResNetBlock.Basic, 1, 1, 1, 1) with { StemWidth = 32, StemType = "deep_tiered", AvgDown = true, ImageSize = 176 },
        ["resnet14t"] = Make(ResNetBlock.Bottleneck, 1, 1, 1, 1) with { StemWidth = 32, StemType = "deep_tiered", AvgDown = true, ImageSize = 176 },
        ["resnet18"] = Make(ResNetBlock.Basic, 2, 2, 2, 2),
        ["resnet18_half"] = Make(ResNetBlock.Basic, 2, 2, 2, 2) with { Channels = new[] { 32, 64, 128, 256 }, StemWidth = 32, PlainStemWidth = 32 },
        ["resnet26"] = Make(ResNetBlock.Bottleneck, 2, 2, 2, 2),
        ["resnet34"] = Make(ResNetBlock.Basic, 3, 4, 6, 3),
        ["resnet50"] = Make(ResNetBlock.Bottleneck, 3, 4, 6, 3),
    };

    static ResNetSpec Make(ResNetBlock block, params int[] layers) => new()
    {
        Block = block,
        Layers = layers,
        ImageSize = 224,
        Input = InputConvention.ImageNet,
    };
}

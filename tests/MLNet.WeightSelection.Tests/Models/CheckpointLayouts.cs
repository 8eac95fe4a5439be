using System.Text.RegularExpressions;

namespace MLNet.WeightSelection.Tests.Models;

/// <summary>Key layouts of a family's other releases, made from timm's names: what the families' checkpoint filters undo.</summary>
public static partial class CheckpointLayouts
{
    /// <summary>A timm ConvNeXt key in Meta's original release (<c>downsample_layers</c>, <c>dwconv</c>, <c>pwconv</c>, <c>head</c>).</summary>
    public static string MetaConvNeXtKey(string key)
    {
        key = key.Replace("stem.", "downsample_layers.0.");
        key = Downsample().Replace(key, "downsample_layers.$1.$2");
        key = Block().Replace(key, "stages.$1.$2");
        key = key.Replace("conv_dw", "dwconv").Replace("mlp.fc", "pwconv");
        if (key.StartsWith("head.norm.", StringComparison.Ordinal)) return key["head.".Length..];
        return key.Replace("head.fc.", "head.");
    }

    /// <summary>A timm ViT key as DeiT-3 names its layer scales (<c>gamma_1</c>, <c>gamma_2</c>).</summary>
    public static string Deit3Key(string key) => LayerScale().Replace(key, "gamma_$1");

    [GeneratedRegex(@"stages\.(\d+)\.downsample\.(\d+)")]
    private static partial Regex Downsample();

    [GeneratedRegex(@"stages\.(\d+)\.blocks\.(\d+)")]
    private static partial Regex Block();

    [GeneratedRegex(@"ls([12])\.gamma")]
    private static partial Regex LayerScale();
}

using MLNet.WeightSelection.Models.Json;

namespace MLNet.WeightSelection.Models;

/// <summary>The families a spec's <c>"family"</c> can name, each with its keyword-argument reader.</summary>
internal static class ModelFamilies
{
    static readonly Dictionary<string, Func<KwargsReader, ModelSpec>> Readers = new(StringComparer.Ordinal)
    {
        [Vit.VisionTransformerSpec.FamilyName] = Vit.VisionTransformerSpec.FromKwargs,
        [ConvNeXt.ConvNeXtSpec.FamilyName] = ConvNeXt.ConvNeXtSpec.FromKwargs,
        [ResNet.ResNetSpec.FamilyName] = ResNet.ResNetSpec.FromKwargs,
    };

    public static IEnumerable<string> Names => Readers.Keys;

    public static bool TryGet(string family, out Func<KwargsReader, ModelSpec> reader) =>
        Readers.TryGetValue(family, out reader!);
}

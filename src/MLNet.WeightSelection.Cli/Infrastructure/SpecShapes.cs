using System.Globalization;
using System.Text.RegularExpressions;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.ConvNeXt;
using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Models.Vit;

namespace MLNet.WeightSelection.Cli.Infrastructure;

/// <summary>
/// Checks a checkpoint's telling shapes (widths, depths, patch size, block type) against a spec without building the
/// model, so a large teacher is never materialized just to be compared.
/// </summary>
internal static partial class SpecShapes
{
    /// <summary>Key → shape of every tensor of <paramref name="source"/>.</summary>
    public static CheckpointShapes Of(ITensorSource source) =>
        new(source.Keys.ToDictionary(k => k, k => source.GetInfo(k).Shape, StringComparer.Ordinal));

    /// <summary>Where the checkpoint and <paramref name="spec"/> disagree, one phrase each; empty when they agree.</summary>
    public static IReadOnlyList<string> Mismatches(ModelSpec spec, CheckpointShapes shapes)
    {
        var problems = new List<string>();
        void Expect(string what, long actual, long expected)
        {
            if (actual != expected) problems.Add($"{what} is {(actual < 0 ? "missing" : actual.ToString(CultureInfo.InvariantCulture))}, the spec says {expected}");
        }
        switch (spec)
        {
            case VisionTransformerSpec v:
                Expect("embed_dim (patch_embed.proj.weight axis 0)", Dim(shapes, "patch_embed.proj.weight", 0), v.EmbedDim);
                Expect("patch_size (patch_embed.proj.weight axis 2)", Dim(shapes, "patch_embed.proj.weight", 2), v.PatchSize);
                Expect("in_chans (patch_embed.proj.weight axis 1)", Dim(shapes, "patch_embed.proj.weight", 1), v.InChans);
                Expect("depth (blocks)", shapes.LayerCounts(VitBlock()).GetValueOrDefault(""), v.Depth);
                Expect("the MLP width (blocks.0.mlp.fc1.weight axis 0)", Dim(shapes, "blocks.0.mlp.fc1.weight", 0), v.MlpHiddenDim);
                break;
            case ConvNeXtSpec c:
                Expect("dims[0] (stem.0.weight axis 0)", Dim(shapes, "stem.0.weight", 0), c.Dims[0]);
                var depths = shapes.LayerCounts(ConvNeXtBlock());
                Expect("the number of stages", depths.Count, c.Depths.Length);
                for (int s = 0; s < c.Depths.Length; s++)
                {
                    Expect($"depths[{s}] (stages.{s}.blocks)", depths.GetValueOrDefault(s.ToString(CultureInfo.InvariantCulture)), c.Depths[s]);
                    Expect($"dims[{s}] (stages.{s}.blocks.0.conv_dw.weight axis 0)", Dim(shapes, $"stages.{s}.blocks.0.conv_dw.weight", 0), c.Dims[s]);
                }
                break;
            case ResNetSpec r:
                Expect("the stem width (bn1.weight)", Dim(shapes, "bn1.weight", 0), r.StemChannels);
                bool bottleneck = shapes.ContainsKey("layer1.0.conv3.weight");
                if (bottleneck != (r.Block == ResNetBlock.Bottleneck))
                    problems.Add($"the blocks are {(bottleneck ? "bottleneck" : "basic")}, the spec says {(r.Block == ResNetBlock.Bottleneck ? "bottleneck" : "basic")}");
                var layers = shapes.LayerCounts(ResNetBlockKey());
                Expect("the number of stages", layers.Count, r.Layers.Length);
                for (int s = 0; s < r.Layers.Length; s++)
                {
                    Expect($"layers[{s}] (layer{s + 1})", layers.GetValueOrDefault((s + 1).ToString(CultureInfo.InvariantCulture)), r.Layers[s]);
                    Expect($"channels[{s}] (layer{s + 1}.0.bn1.weight)", Dim(shapes, $"layer{s + 1}.0.bn1.weight", 0), r.Channels[s]);
                }
                break;
            default:
                problems.Add($"no shape check for {spec.GetType().Name}");
                break;
        }
        return problems;
    }

    static long Dim(CheckpointShapes shapes, string key, int axis) =>
        shapes.TryGetValue(key, out var s) && s.Length > axis ? s[axis] : -1;

    [GeneratedRegex(@"^blocks\.(?<layer>\d+)\.")]
    private static partial Regex VitBlock();

    [GeneratedRegex(@"^stages\.(?<stage>\d+)\.blocks\.(?<layer>\d+)\.")]
    private static partial Regex ConvNeXtBlock();

    [GeneratedRegex(@"^layer(?<stage>\d+)\.(?<layer>\d+)\.")]
    private static partial Regex ResNetBlockKey();
}

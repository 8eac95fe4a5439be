using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Globalization;
using System.Text.RegularExpressions;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models.Json;
using MLNet.WeightSelection.Models.Onnx;
using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Models.ResNet;

/// <summary>The ResNet family's registration: its name, spec reader, presets and selection schema.</summary>
internal sealed partial class ResNetFamily : ModelFamily
{
    public static ResNetFamily Instance { get; } = new();

    // The family registers itself: nothing outside its folder names it.
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "Built-in families must be known before any spec is read or checkpoint detected, from whichever entry point.")]
    internal static void RegisterAtLoad() => ModelFamilies.Register(Instance);

    /// <inheritdoc />
    public override string Name => ResNetSpec.FamilyName;

    /// <inheritdoc />
    public override ModelSpec ReadSpec(KwargsReader kwargs) => ResNetSpec.FromKwargs(kwargs);

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, ModelSpec> Presets { get; } = ResNetPresets.All.ToDictionary(p => p.Key, p => (ModelSpec)p.Value, StringComparer.Ordinal);

    /// <inheritdoc />
    public override SelectionSchema Schema => ResNetSelectionSchema.Schema;

    /// <inheritdoc />
    /// <remarks>Measured: +1.07 and +0.98 points on 1,000 Fashion-MNIST images (without and with teacher adaptation, 3
    /// seeds, every seed higher), +0.25 on 1,000 digits (docs/results.md).</remarks>
    public override bool SmallDataRandAugment => true;

    internal override (string Features, string? Logits) BuildOnnx(OnnxGraphBuilder graph, string input, ExportWeights weights, ModelSpec spec) =>
        ResNetOnnxGraph.Build(graph, input, weights, (ResNetSpec)spec);

    /// <inheritdoc />
    public override IReadOnlyList<string> ShapeMismatches(ModelSpec spec, CheckpointShapes shapes)
    {
        var r = (ResNetSpec)spec;
        var problems = new List<string>();
        ShapeCheck.Expect(problems, "the stem width (bn1.weight)", shapes.Dim("bn1.weight", 0), r.StemChannels);
        bool bottleneck = shapes.ContainsKey("layer1.0.conv3.weight");
        if (bottleneck != (r.Block == ResNetBlock.Bottleneck))
            problems.Add($"the blocks are {(bottleneck ? "bottleneck" : "basic")}, the spec says {(r.Block == ResNetBlock.Bottleneck ? "bottleneck" : "basic")}");
        var layers = shapes.LayerCounts(BlockKey());
        ShapeCheck.Expect(problems, "the number of stages", layers.Count, r.Layers.Length);
        for (int s = 0; s < r.Layers.Length; s++)
        {
            ShapeCheck.Expect(problems, $"layers[{s}] (layer{s + 1})", layers.GetValueOrDefault((s + 1).ToString(CultureInfo.InvariantCulture)), r.Layers[s]);
            ShapeCheck.Expect(problems, $"channels[{s}] (layer{s + 1}.0.bn1.weight)", shapes.Dim($"layer{s + 1}.0.bn1.weight", 0), r.Channels[s]);
        }
        return problems;
    }

    [GeneratedRegex(@"^layer(?<stage>\d+)\.(?<layer>\d+)\.")]
    private static partial Regex BlockKey();
}

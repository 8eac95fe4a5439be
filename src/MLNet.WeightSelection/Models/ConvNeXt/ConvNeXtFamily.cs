using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Globalization;
using System.Text.RegularExpressions;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models.Json;
using MLNet.WeightSelection.Models.Onnx;
using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Models.ConvNeXt;

/// <summary>The ConvNeXt family's registration: its name, spec reader, presets and selection schema.</summary>
internal sealed partial class ConvNeXtFamily : ModelFamily
{
    public static ConvNeXtFamily Instance { get; } = new();

    // The family registers itself: nothing outside its folder names it.
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "Built-in families must be known before any spec is read or checkpoint detected, from whichever entry point.")]
    internal static void RegisterAtLoad() => ModelFamilies.Register(Instance);

    /// <inheritdoc />
    public override string Name => ConvNeXtSpec.FamilyName;

    /// <inheritdoc />
    public override ModelSpec ReadSpec(KwargsReader kwargs) => ConvNeXtSpec.FromKwargs(kwargs);

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, ModelSpec> Presets { get; } = ConvNeXtPresets.All.ToDictionary(p => p.Key, p => (ModelSpec)p.Value, StringComparer.Ordinal);

    /// <inheritdoc />
    public override SelectionSchema Schema => ConvNeXtSelectionSchema.Schema;

    internal override (string Features, string? Logits) BuildOnnx(OnnxGraphBuilder graph, string input, ExportWeights weights, ModelSpec spec) =>
        ConvNeXtOnnxGraph.Build(graph, input, weights, (ConvNeXtSpec)spec);

    /// <inheritdoc />
    public override IReadOnlyList<string> ShapeMismatches(ModelSpec spec, CheckpointShapes shapes)
    {
        var c = (ConvNeXtSpec)spec;
        var problems = new List<string>();
        ShapeCheck.Expect(problems, "dims[0] (stem.0.weight axis 0)", shapes.Dim("stem.0.weight", 0), c.Dims[0]);
        var depths = shapes.LayerCounts(BlockKey());
        ShapeCheck.Expect(problems, "the number of stages", depths.Count, c.Depths.Length);
        for (int s = 0; s < c.Depths.Length; s++)
        {
            ShapeCheck.Expect(problems, $"depths[{s}] (stages.{s}.blocks)", depths.GetValueOrDefault(s.ToString(CultureInfo.InvariantCulture)), c.Depths[s]);
            ShapeCheck.Expect(problems, $"dims[{s}] (stages.{s}.blocks.0.conv_dw.weight axis 0)", shapes.Dim($"stages.{s}.blocks.0.conv_dw.weight", 0), c.Dims[s]);
        }
        return problems;
    }

    [GeneratedRegex(@"^stages\.(?<stage>\d+)\.blocks\.(?<layer>\d+)\.")]
    private static partial Regex BlockKey();
}

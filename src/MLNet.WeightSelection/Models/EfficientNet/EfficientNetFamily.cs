using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models.Json;
using MLNet.WeightSelection.Models.Onnx;
using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Models.EfficientNet;

/// <summary>The EfficientNet family's registration: its name, spec reader, presets and selection schema.</summary>
internal sealed partial class EfficientNetFamily : ModelFamily
{
    public static EfficientNetFamily Instance { get; } = new();

    // The family registers itself: nothing outside its folder names it.
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "Built-in families must be known before any spec is read or checkpoint detected, from whichever entry point.")]
    internal static void RegisterAtLoad() => ModelFamilies.Register(Instance);

    /// <inheritdoc />
    public override string Name => EfficientNetSpec.FamilyName;

    /// <inheritdoc />
    public override ModelSpec ReadSpec(KwargsReader kwargs) => EfficientNetSpec.FromKwargs(kwargs);

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, ModelSpec> Presets { get; } = EfficientNetPresets.All.ToDictionary(p => p.Key, p => (ModelSpec)p.Value, StringComparer.Ordinal);

    /// <inheritdoc />
    public override SelectionSchema Schema => EfficientNetSelectionSchema.Schema;

    internal override (string Features, string? Logits) BuildOnnx(OnnxGraphBuilder graph, string input, ExportWeights weights, ModelSpec spec) =>
        EfficientNetOnnxGraph.Build(graph, input, weights, (EfficientNetSpec)spec);

    /// <inheritdoc />
    public override IReadOnlyList<string> ShapeMismatches(ModelSpec spec, CheckpointShapes shapes)
    {
        var e = (EfficientNetSpec)spec;
        var problems = new List<string>();
        var blocks = e.Blocks();
        ShapeCheck.Expect(problems, "the stem width (conv_stem.weight axis 0)", shapes.Dim("conv_stem.weight", 0), e.StemChannels);
        var depths = shapes.LayerCounts(BlockKey());
        ShapeCheck.Expect(problems, "the number of stages", depths.Count, blocks.Count);
        for (int s = 0; s < blocks.Count; s++)
        {
            ShapeCheck.Expect(problems, $"the depth of stage {s} (blocks.{s})", depths.GetValueOrDefault(s.ToString(CultureInfo.InvariantCulture)), blocks[s].Count);
            var first = blocks[s][0];
            string p = $"blocks.{s}.0";
            bool inverted = first.Type == EfficientNetBlockType.InvertedResidual;
            if (inverted != shapes.ContainsKey(p + ".conv_pwl.weight"))
                problems.Add($"{p} is {(inverted ? "a ds" : "an ir")} block, the spec says {(inverted ? "ir" : "ds")}");
            else
            {
                string output = inverted ? p + ".conv_pwl.weight" : p + ".conv_pw.weight";
                ShapeCheck.Expect(problems, $"the width of stage {s} ({output} axis 0)", shapes.Dim(output, 0), first.OutChannels);
                ShapeCheck.Expect(problems, $"the depthwise width of {p} ({p}.conv_dw.weight axis 0)", shapes.Dim(p + ".conv_dw.weight", 0), first.MidChannels);
                ShapeCheck.Expect(problems, $"the kernel of {p} ({p}.conv_dw.weight axis 2)", shapes.Dim(p + ".conv_dw.weight", 2), first.KernelSize);
            }
        }
        ShapeCheck.Expect(problems, "num_features (conv_head.weight axis 0)", shapes.Dim("conv_head.weight", 0), e.NumFeatures);
        return problems;
    }

    [GeneratedRegex(@"^blocks\.(?<stage>\d+)\.(?<layer>\d+)\.")]
    private static partial Regex BlockKey();
}

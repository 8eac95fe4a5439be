using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Globalization;
using System.Text.RegularExpressions;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models.Json;
using MLNet.WeightSelection.Models.Onnx;
using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Models.Vit;

/// <summary>The Vit family's registration: its name, spec reader, presets and selection schema.</summary>
internal sealed partial class VitFamily : ModelFamily
{
    public static VitFamily Instance { get; } = new();

    // The family registers itself: nothing outside its folder names it.
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "Built-in families must be known before any spec is read or checkpoint detected, from whichever entry point.")]
    internal static void RegisterAtLoad() => ModelFamilies.Register(Instance);

    /// <inheritdoc />
    public override string Name => VisionTransformerSpec.FamilyName;

    /// <inheritdoc />
    public override ModelSpec ReadSpec(KwargsReader kwargs) => VisionTransformerSpec.FromKwargs(kwargs);

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, ModelSpec> Presets { get; } = VitPresets.All.ToDictionary(p => p.Key, p => (ModelSpec)p.Value, StringComparer.Ordinal);

    /// <inheritdoc />
    public override SelectionSchema Schema => VitSelectionSchema.Schema;

    /// <inheritdoc />
    public override bool RunsOnlyAtItsImageSize => true;

    internal override (string Features, string? Logits) BuildOnnx(OnnxGraphBuilder graph, string input, ExportWeights weights, ModelSpec spec) =>
        VitOnnxGraph.Build(graph, input, weights, (VisionTransformerSpec)spec);

    /// <inheritdoc />
    public override IReadOnlyList<string> ShapeMismatches(ModelSpec spec, CheckpointShapes shapes)
    {
        var v = (VisionTransformerSpec)spec;
        var problems = new List<string>();
        ShapeCheck.Expect(problems, "embed_dim (patch_embed.proj.weight axis 0)", shapes.Dim("patch_embed.proj.weight", 0), v.EmbedDim);
        ShapeCheck.Expect(problems, "patch_size (patch_embed.proj.weight axis 2)", shapes.Dim("patch_embed.proj.weight", 2), v.PatchSize);
        ShapeCheck.Expect(problems, "in_chans (patch_embed.proj.weight axis 1)", shapes.Dim("patch_embed.proj.weight", 1), v.InChans);
        ShapeCheck.Expect(problems, "depth (blocks)", shapes.LayerCounts(BlockKey()).GetValueOrDefault(""), v.Depth);
        ShapeCheck.Expect(problems, "the MLP width (blocks.0.mlp.fc1.weight axis 0)", shapes.Dim("blocks.0.mlp.fc1.weight", 0), v.MlpHiddenDim);
        return problems;
    }

    /// <inheritdoc />
    public override bool TryImageSize(ModelSpec preset, CheckpointShapes shapes, out int? imageSize)
    {
        imageSize = null;
        var vit = (VisionTransformerSpec)preset;
        if (!shapes.TryGetValue("pos_embed", out var pos) || pos.Length != 3) return true;
        long grid = pos[1] - vit.NumPrefixTokens;
        long side = (long)Math.Round(Math.Sqrt(grid));
        if (side * side != grid) return false;
        imageSize = (int)side * vit.PatchSize;
        return true;
    }

    /// <inheritdoc />
    public override int? AttentionHeads(ModelSpec spec) => ((VisionTransformerSpec)spec).NumHeads;

    [GeneratedRegex(@"^blocks\.(?<layer>\d+)\.")]
    private static partial Regex BlockKey();
}

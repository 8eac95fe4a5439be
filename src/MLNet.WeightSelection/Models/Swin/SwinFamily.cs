using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models.Json;
using MLNet.WeightSelection.Models.Onnx;
using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Models.Swin;

/// <summary>The Swin family's registration: its name, spec reader, presets and selection schema.</summary>
internal sealed partial class SwinFamily : ModelFamily
{
    public static SwinFamily Instance { get; } = new();

    // The family registers itself: nothing outside its folder names it.
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "Built-in families must be known before any spec is read or checkpoint detected, from whichever entry point.")]
    internal static void RegisterAtLoad() => ModelFamilies.Register(Instance);

    /// <inheritdoc />
    public override string Name => SwinSpec.FamilyName;

    /// <inheritdoc />
    public override ModelSpec ReadSpec(KwargsReader kwargs) => SwinSpec.FromKwargs(kwargs);

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, ModelSpec> Presets { get; } = SwinPresets.All.ToDictionary(p => p.Key, p => (ModelSpec)p.Value, StringComparer.Ordinal);

    /// <inheritdoc />
    public override SelectionSchema Schema => SwinSelectionSchema.Schema;

    /// <summary>
    /// True: as timm's strict_img_size, the shift masks and the clamped windows are made for the spec's image size (a
    /// model at another size is another spec; its bias tables are resampled when the window changes).
    /// </summary>
    public override bool RunsOnlyAtItsImageSize => true;

    internal override (string Features, string? Logits) BuildOnnx(OnnxGraphBuilder graph, string input, ExportWeights weights, ModelSpec spec) =>
        SwinOnnxGraph.Build(graph, input, weights, (SwinSpec)spec);

    /// <inheritdoc />
    public override IReadOnlyList<string> ShapeMismatches(ModelSpec spec, CheckpointShapes shapes)
    {
        var v = (SwinSpec)spec;
        var problems = new List<string>();
        ShapeCheck.Expect(problems, "embed_dim (patch_embed.proj.weight axis 0)", shapes.Dim("patch_embed.proj.weight", 0), v.EmbedDim);
        ShapeCheck.Expect(problems, "patch_size (patch_embed.proj.weight axis 2)", shapes.Dim("patch_embed.proj.weight", 2), v.PatchSize);
        ShapeCheck.Expect(problems, "in_chans (patch_embed.proj.weight axis 1)", shapes.Dim("patch_embed.proj.weight", 1), v.InChans);
        var depths = shapes.LayerCounts(BlockKey());
        ShapeCheck.Expect(problems, "the number of stages (depths)", depths.Count, v.NumStages);
        for (int s = 0; s < v.NumStages; s++)
        {
            string p = $"layers.{s}.blocks.0";
            ShapeCheck.Expect(problems, $"depths[{s}] (layers.{s}.blocks)", depths.GetValueOrDefault(s.ToString(CultureInfo.InvariantCulture)), v.Depths[s]);
            ShapeCheck.Expect(problems, $"num_heads[{s}] ({p}.attn.relative_position_bias_table axis 1)",
                shapes.Dim($"{p}.attn.relative_position_bias_table", 1), v.NumHeads[s]);
            // A window clamped to a small map (another image size) has a smaller table; a larger one is another window_size.
            long rows = shapes.Dim($"{p}.attn.relative_position_bias_table", 0);
            long full = (2L * v.WindowSize - 1) * (2L * v.WindowSize - 1);
            if (rows > full)
                problems.Add($"the window of stage {s} ({p}.attn.relative_position_bias_table axis 0, (2w-1)²) is {rows}, window_size {v.WindowSize} allows at most {full}");
            ShapeCheck.Expect(problems, $"the MLP width of stage {s} ({p}.mlp.fc1.weight axis 0)", shapes.Dim($"{p}.mlp.fc1.weight", 0), v.MlpHiddenDim(s));
        }
        return problems;
    }

    /// <summary>
    /// The image size a checkpoint of <paramref name="preset"/>'s architecture was made for, when a stage's bias tables
    /// show a window clamped to its map: a (2r−1)² table with r below <c>window_size</c> means stage s's map is r
    /// tokens wide, so the image is r · 2^s · patch_size. Null when no stage is clamped (the tables fit any size
    /// large enough); false when a table is no (2r−1)² grid or is larger than the window allows.
    /// </summary>
    public override bool TryImageSize(ModelSpec preset, CheckpointShapes shapes, out int? imageSize)
    {
        imageSize = null;
        var v = (SwinSpec)preset;
        for (int s = 0; s < v.NumStages; s++)
        {
            long rows = shapes.Dim($"layers.{s}.blocks.0.attn.relative_position_bias_table", 0);
            if (rows < 0) return true; // not this layout: the shape comparison decides
            long side = (long)Math.Round(Math.Sqrt(rows));
            if (side * side != rows || side % 2 == 0) return false;
            long window = (side + 1) / 2;
            if (window > v.WindowSize) return false;
            if (window < v.WindowSize)
            {
                imageSize = (int)(window << s) * v.PatchSize;
                return true;
            }
        }
        return true;
    }

    /// <summary>
    /// The first stage's heads. Swin's head count changes from stage to stage: whole-head selection reads each block's
    /// teacher and student counts from its bias table (the schema's head-count widths), so this count only says that
    /// the family has heads.
    /// </summary>
    public override int? AttentionHeads(ModelSpec spec) => ((SwinSpec)spec).NumHeads[0];

    [GeneratedRegex(@"^layers\.(?<stage>\d+)\.blocks\.(?<layer>\d+)\.")]
    private static partial Regex BlockKey();
}

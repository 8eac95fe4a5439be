using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models.Json;
using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Models;

/// <summary>
/// A model family as the library knows it, in one registration object (timm's model file: config, presets, filter
/// and registration side by side): its name in specs, how its spec reads timm's keyword arguments, its presets and its
/// selection schema. Its spec type carries the rest (the model, the checkpoint filter, the image-size multiple).
/// Register a family of your own with <see cref="ModelFamilies.Register"/>.
/// </summary>
public abstract class ModelFamily
{
    /// <summary>The family's name in specs (<c>{"family": "vit", ...}</c>) and in selection schemas.</summary>
    public abstract string Name { get; }

    /// <summary>Reads the family's spec from timm's keyword arguments (<c>num_classes</c>, <c>in_chans</c> and <c>pretrained_cfg</c> are read for every family).</summary>
    public abstract ModelSpec ReadSpec(KwargsReader kwargs);

    /// <summary>Named configurations, by timm's model names.</summary>
    public abstract IReadOnlyDictionary<string, ModelSpec> Presets { get; }

    /// <summary>The widths and component map weight selection uses for this family's keys.</summary>
    public abstract SelectionSchema Schema { get; }

    /// <summary>
    /// Where a checkpoint's telling shapes (widths, depths, patch size, block type) disagree with <paramref name="spec"/>,
    /// one phrase each, checked from the header without building the model; empty when they agree (the default checks
    /// nothing, and selection still reports any mismatch key by key).
    /// </summary>
    public virtual IReadOnlyList<string> ShapeMismatches(ModelSpec spec, CheckpointShapes shapes) => Array.Empty<string>();

    /// <summary>
    /// The image size a checkpoint of <paramref name="preset"/>'s architecture was made for, when its shapes tell (a
    /// ViT's position embeddings); null when they do not. False when the shapes fit no image size.
    /// </summary>
    public virtual bool TryImageSize(ModelSpec preset, CheckpointShapes shapes, out int? imageSize)
    {
        imageSize = null;
        return true;
    }

    /// <summary>Attention heads of a model of <paramref name="spec"/> (for whole-head selection); null when the family has none.</summary>
    public virtual int? AttentionHeads(ModelSpec spec) => null;

    /// <summary>
    /// True when the fitted recipe adds RandAugment to this family's students on small data (below
    /// <see cref="Training.TrainingRecipe.RandAugmentMaxImagesPerClass"/> images per class). Off unless measured to
    /// help: it added about a point to ResNet students on 1,000 Fashion-MNIST images and cost ViT students 2–16 points
    /// on 250 and 1,000 (every run, 3 seeds; docs/results.md), so a family turns it on only with evidence of its own.
    /// </summary>
    public virtual bool SmallDataRandAugment => false;

    /// <summary>True when the family's models run only at their own image size (a ViT's position embeddings fix it).</summary>
    public virtual bool RunsOnlyAtItsImageSize => false;

    /// <summary>
    /// Writes the forward pass of a model of this family into an ONNX graph after the input normalization: the pooled
    /// features and, when the model has a classifier, the logits. Families outside the library have no ONNX export
    /// (the graph builder is the library's own).
    /// </summary>
    internal virtual (string Features, string? Logits) BuildOnnx(Onnx.OnnxGraphBuilder graph, string input, Onnx.ExportWeights weights, ModelSpec spec) =>
        throw new NotSupportedException($"ONNX export does not cover the '{Name}' family.");

    /// <inheritdoc />
    public override string ToString() => Name;
}

using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Models.ConvNeXt;

/// <summary>The convnext family's selection schema: its widths and component map, which Selection/ consumes.</summary>
internal static class ConvNeXtSelectionSchema
{
    /// <summary>
    /// ConvNeXt (timm <c>convnext.py</c>). Widths: one per stage, <c>stages.{s}</c> (stem out and its norm are stage 0;
    /// a downsample's norm is the previous stage, its conv maps previous → this stage; depthwise conv, norms, fc1's
    /// input, fc2's output and gamma), one per block, <c>stages.{s}.blocks.{i}.mlp.hidden</c>, and <c>features</c>
    /// (the head's norm and the classifier's input), tied to the last stage. fc1/fc2 may be Linear [h, d] or 1×1
    /// convolutions [h, d, 1, 1] (the conv_mlp presets): they map onto each other by reshaping.
    /// </summary>
    public static SelectionSchema Schema { get; } = new()
    {
        Family = "convnext",
        Signature = new[] { "stem.0.weight", "stages.{s}.blocks.{i}.conv_dw.weight" },
        LayerGroups = new[] { "stages.{s}.blocks.{i}" },
        ClassifierKeys = new[] { "head.fc.weight", "head.fc.bias" },
        ReshapeKeys = new[] { "stages.{s}.blocks.{i}.mlp.fc1.weight", "stages.{s}.blocks.{i}.mlp.fc2.weight" },
        Rules = new WidthRule[]
        {
            new("stem.0.*", W("stages.0")),
            new("stem.1.*", W("stages.0")),
            new("stages.{s}.downsample.0.*", W("stages.{s-1}")),
            new("stages.{s}.downsample.1.weight", W("stages.{s}"), W("stages.{s-1}")),
            new("stages.{s}.downsample.1.bias", W("stages.{s}")),
            new("stages.{s}.blocks.{i}.conv_dw.*", W("stages.{s}")),
            new("stages.{s}.blocks.{i}.norm.*", W("stages.{s}")),
            new("stages.{s}.blocks.{i}.mlp.fc1.weight", W("stages.{s}.blocks.{i}.mlp.hidden"), W("stages.{s}")),
            new("stages.{s}.blocks.{i}.mlp.fc1.bias", W("stages.{s}.blocks.{i}.mlp.hidden")),
            new("stages.{s}.blocks.{i}.mlp.grn.*", W("stages.{s}.blocks.{i}.mlp.hidden")),
            new("stages.{s}.blocks.{i}.mlp.fc2.weight", W("stages.{s}"), W("stages.{s}.blocks.{i}.mlp.hidden")),
            new("stages.{s}.blocks.{i}.mlp.fc2.bias", W("stages.{s}")),
            new("stages.{s}.blocks.{i}.gamma", W("stages.{s}")),
            new("norm_pre.*", W("features")),
            new("head.norm.*", W("features")),
            new("head.fc.weight", Unbound, W("features")),
            new("head.fc.bias", Unbound),
        },
        Ties = ConvNeXtTies,
    };

    static IEnumerable<WidthTie> ConvNeXtTies(IReadOnlyCollection<string> keys)
    {
        var stage = new KeyPattern("stages.{s}.blocks.{i}.conv_dw.weight");
        int last = -1;
        foreach (var key in keys)
            if (stage.TryMatch(key, out var c)) last = Math.Max(last, c["s"]);
        if (last >= 0) yield return new WidthTie($"stages.{last}", "features");
    }

    static AxisBinding W(string width) => AxisBinding.To(width);

    static AxisBinding Unbound => AxisBinding.None;
}

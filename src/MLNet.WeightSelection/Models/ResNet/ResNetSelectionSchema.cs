using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Models.ResNet;

/// <summary>The resnet family's selection schema: its widths and component map, which Selection/ consumes.</summary>
internal static class ResNetSelectionSchema
{
    /// <summary>
    /// ResNet (timm <c>resnet.py</c>, basic and bottleneck blocks, plain or deep stem, plain or average-pool downsample). Widths: <c>stem</c>; per stage
    /// the output width <c>layer{s}.out</c> (the last conv and its norm of every block, the downsample, the next
    /// block's input); per block the inner widths <c>layer{s}.{i}.inner</c> (conv1 out) and <c>layer{s}.{i}.inner2</c>
    /// (conv2 out; in a basic block that is the stage output); <c>features</c>, the classifier's input. Ties come
    /// from the keys: a block without a downsample adds its input to its output, so those are one width.
    /// </summary>
    public static SelectionSchema Schema { get; } = new()
    {
        Family = "resnet",
        Signature = new[] { "layer{s}.{i}.conv1.weight", "layer{s}.{i}.bn1.weight" },
        LayerGroups = new[] { "layer{s}.{i}" },
        ClassifierKeys = new[] { "fc.weight", "fc.bias" },
        Rules = new WidthRule[]
        {
            new("conv1.weight", W("stem")),
            new("conv1.0.weight", W("stem.0")),
            new("conv1.1.*", W("stem.0")),
            new("conv1.3.weight", W("stem.1"), W("stem.0")),
            new("conv1.4.*", W("stem.1")),
            new("conv1.6.weight", W("stem"), W("stem.1")),
            new("bn1.*", W("stem")),
            new("layer{s}.{i}.conv1.weight", W("layer{s}.{i}.inner"), W("layer{s}.{i}.in")),
            new("layer{s}.{i}.bn1.*", W("layer{s}.{i}.inner")),
            new("layer{s}.{i}.conv2.weight", W("layer{s}.{i}.inner2"), W("layer{s}.{i}.inner")),
            new("layer{s}.{i}.bn2.*", W("layer{s}.{i}.inner2")),
            new("layer{s}.{i}.conv3.weight", W("layer{s}.out"), W("layer{s}.{i}.inner2")),
            new("layer{s}.{i}.bn3.*", W("layer{s}.out")),
            new("layer{s}.{i}.downsample.0.weight", W("layer{s}.out"), W("layer{s}.{i}.in")),
            // avg_down: downsample.0 is a pooling, .1 the 1x1 convolution, .2 the norm.
            new("layer{s}.{i}.downsample.1.weight", W("layer{s}.out"), W("layer{s}.{i}.in")),
            new("layer{s}.{i}.downsample.1.*", W("layer{s}.out")),
            new("layer{s}.{i}.downsample.2.*", W("layer{s}.out")),
            new("fc.weight", Unbound, W("features")),
            new("fc.bias", Unbound),
        },
        Ties = ResNetTies,
    };

    static IEnumerable<WidthTie> ResNetTies(IReadOnlyCollection<string> studentKeys)
    {
        var keys = studentKeys.ToHashSet(StringComparer.Ordinal);
        var block = KeyPattern.Prefix("layer{s}.{i}");
        var blocks = new SortedSet<(int Stage, int Index)>();
        foreach (var key in keys)
            if (block.TryMatch(key, out var c)) blocks.Add((c["s"], c["i"]));
        var stages = blocks.Select(b => b.Stage).Distinct().OrderBy(s => s).ToList();

        foreach (var (s, i) in blocks)
        {
            string prefix = $"layer{s}.{i}.";
            string output = $"layer{s}.out", input = $"{prefix[..^1]}.in";
            // A basic block has no conv3: its conv2 produces the stage output.
            if (!keys.Contains(prefix + "conv3.weight")) yield return new WidthTie(output, $"{prefix}inner2");
            if (i > 0) yield return new WidthTie(output, input);
            else
            {
                int at = stages.IndexOf(s);
                yield return new WidthTie(at == 0 ? "stem" : $"layer{stages[at - 1]}.out", input);
            }
            // Without a downsample the block adds its input to its output: the same width.
            if (!keys.Contains(prefix + "downsample.0.weight") && !keys.Contains(prefix + "downsample.1.weight"))
                yield return new WidthTie(output, input);
        }
        if (stages.Count > 0) yield return new WidthTie($"layer{stages[^1]}.out", "features");
    }

    static AxisBinding W(string width) => AxisBinding.To(width);

    static AxisBinding Unbound => AxisBinding.None;
}

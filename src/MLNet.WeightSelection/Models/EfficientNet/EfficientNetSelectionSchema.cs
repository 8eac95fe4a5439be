using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Models.EfficientNet;

/// <summary>The efficientnet family's selection schema: its widths and component map, which Selection/ consumes.</summary>
internal static class EfficientNetSelectionSchema
{
    /// <summary>
    /// EfficientNet (timm <c>efficientnet.py</c>, <c>ds</c> and <c>ir</c> blocks). Widths: <c>stem</c> (conv_stem out,
    /// bn1); per stage its residual width <c>blocks.{s}</c> (every block's output: conv_pwl and bn3, or a ds block's
    /// conv_pw and bn2); per block its input <c>blocks.{s}.{i}.in</c>, its depthwise width <c>blocks.{s}.{i}.mid</c>
    /// (conv_dw, the SE's outer width; the expanded width of an ir block, the input of a ds block), the output of its
    /// conv_pw <c>blocks.{s}.{i}.pw</c> (the mid width in ir, the stage width in ds) and its SE's reduced width
    /// <c>blocks.{s}.{i}.se</c>; <c>features</c> (conv_head out, bn2, the classifier's input). A depthwise weight
    /// [C, 1, k, k] binds axis 0 only. Ties come from the keys: a block's input is the previous block's output (the
    /// stem's for the first), and the last stage feeds conv_head. A stage's first block is taken to change width or
    /// resolution, as in every EfficientNet (B0–B8); with uniform selection its input and output would get the same
    /// indices anyway when their sizes agree.
    /// </summary>
    public static SelectionSchema Schema { get; } = new()
    {
        Family = EfficientNetSpec.FamilyName,
        Signature = new[] { "conv_stem.weight", "blocks.{s}.{i}.conv_dw.weight" },
        LayerGroups = new[] { "blocks.{s}.{i}" },
        ClassifierKeys = new[] { "classifier.weight", "classifier.bias" },
        Rules = new WidthRule[]
        {
            new("conv_stem.weight", W("stem")),
            new("bn1.*", W("stem")),
            new("blocks.{s}.{i}.conv_dw.weight", W("blocks.{s}.{i}.mid")),
            new("blocks.{s}.{i}.conv_pw.weight", W("blocks.{s}.{i}.pw"), W("blocks.{s}.{i}.in")),
            new("blocks.{s}.{i}.bn1.*", W("blocks.{s}.{i}.mid")),
            new("blocks.{s}.{i}.bn2.*", W("blocks.{s}.{i}.pw")),
            new("blocks.{s}.{i}.se.conv_reduce.weight", W("blocks.{s}.{i}.se"), W("blocks.{s}.{i}.mid")),
            new("blocks.{s}.{i}.se.conv_reduce.bias", W("blocks.{s}.{i}.se")),
            new("blocks.{s}.{i}.se.conv_expand.weight", W("blocks.{s}.{i}.mid"), W("blocks.{s}.{i}.se")),
            new("blocks.{s}.{i}.se.conv_expand.bias", W("blocks.{s}.{i}.mid")),
            new("blocks.{s}.{i}.conv_pwl.weight", W("blocks.{s}"), W("blocks.{s}.{i}.mid")),
            new("blocks.{s}.{i}.bn3.*", W("blocks.{s}")),
            new("conv_head.weight", W("features"), W("head.in")),
            new("bn2.*", W("features")),
            new("classifier.weight", Unbound, W("features")),
            new("classifier.bias", Unbound),
        },
        Ties = EfficientNetTies,
    };

    static IEnumerable<WidthTie> EfficientNetTies(IReadOnlyCollection<string> studentKeys)
    {
        var keys = studentKeys.ToHashSet(StringComparer.Ordinal);
        var block = KeyPattern.Prefix("blocks.{s}.{i}");
        var blocks = new SortedSet<(int Stage, int Index)>();
        foreach (var key in keys)
            if (block.TryMatch(key, out var c)) blocks.Add((c["s"], c["i"]));
        var stages = blocks.Select(b => b.Stage).Distinct().OrderBy(s => s).ToList();

        foreach (var (s, i) in blocks)
        {
            string p = $"blocks.{s}.{i}", stage = $"blocks.{s}";
            int at = stages.IndexOf(s);
            string previous = i > 0 ? stage : at == 0 ? "stem" : $"blocks.{stages[at - 1]}";
            yield return new WidthTie(previous, p + ".in");
            if (keys.Contains(p + ".conv_pwl.weight"))
                yield return new WidthTie(p + ".mid", p + ".pw"); // ir: conv_pw expands to the mid width
            else
            {
                // ds: the depthwise conv runs on the input; conv_pw projects to the stage width.
                yield return new WidthTie(p + ".in", p + ".mid");
                yield return new WidthTie(stage, p + ".pw");
            }
        }
        if (stages.Count > 0) yield return new WidthTie($"blocks.{stages[^1]}", "head.in");
    }

    static AxisBinding W(string width) => AxisBinding.To(width);

    static AxisBinding Unbound => AxisBinding.None;
}

using MLNet.WeightSelection.Models.Onnx;

namespace MLNet.WeightSelection.Models.EfficientNet;

/// <summary>
/// timm's EfficientNet forward pass (eval) as ONNX nodes: BatchNormalization (eps 1e-5), SiLU as x·Sigmoid(x),
/// depthwise convolutions with group = channels, squeeze-excitation as GlobalAveragePool → Conv → SiLU → Conv →
/// Sigmoid → Mul; initializers keep timm's key names.
/// </summary>
internal static class EfficientNetOnnxGraph
{
    /// <summary>Adds the network from normalized NCHW <paramref name="x"/>; returns the pooled features and the logits (null without a classifier).</summary>
    public static (string Features, string? Logits) Build(OnnxGraphBuilder g, string x, ExportWeights w, EfficientNetSpec spec)
    {
        var y = Silu(g, "bn1", g.BatchNorm("bn1", Conv(g, w, "conv_stem", x, 2), w));
        var stages = spec.Blocks();
        for (int s = 0; s < stages.Count; s++)
            for (int b = 0; b < stages[s].Count; b++)
                y = Block(g, w, $"blocks.{s}.{b}", y, stages[s][b]);
        y = Silu(g, "bn2", g.BatchNorm("bn2", Conv(g, w, "conv_head", y, 1), w));
        var features = g.GlobalAveragePoolFlat("global_pool", y);
        string? logits = w.Contains("classifier.weight") ? g.Gemm("classifier", features, w["classifier.weight"], w["classifier.bias"]) : null;
        return (features, logits);
    }

    static string Block(OnnxGraphBuilder g, ExportWeights w, string p, string x, EfficientNetBlockConfig c)
    {
        string y;
        if (c.Type == EfficientNetBlockType.InvertedResidual)
        {
            y = Silu(g, p + ".bn1", g.BatchNorm(p + ".bn1", Conv(g, w, p + ".conv_pw", x, 1), w));
            y = Silu(g, p + ".bn2", g.BatchNorm(p + ".bn2", Conv(g, w, p + ".conv_dw", y, c.Stride, groups: c.MidChannels), w));
            y = SqueezeExcite(g, w, p + ".se", y);
            y = g.BatchNorm(p + ".bn3", Conv(g, w, p + ".conv_pwl", y, 1), w);
        }
        else
        {
            y = Silu(g, p + ".bn1", g.BatchNorm(p + ".bn1", Conv(g, w, p + ".conv_dw", x, c.Stride, groups: c.InChannels), w));
            y = SqueezeExcite(g, w, p + ".se", y);
            y = g.BatchNorm(p + ".bn2", Conv(g, w, p + ".conv_pw", y, 1), w);
        }
        return c.HasSkip ? g.Node("Add", p, new[] { y, x }) : y;
    }

    static string SqueezeExcite(OnnxGraphBuilder g, ExportWeights w, string p, string x)
    {
        if (!w.Contains(p + ".conv_reduce.weight")) return x;
        var s = g.Node("GlobalAveragePool", p, new[] { x });
        s = Silu(g, p + ".act1", g.Conv(p + ".conv_reduce", s, w[p + ".conv_reduce.weight"], w[p + ".conv_reduce.bias"], 1, 0));
        s = g.Node("Sigmoid", p + ".gate", new[] { g.Conv(p + ".conv_expand", s, w[p + ".conv_expand.weight"], w[p + ".conv_expand.bias"], 1, 0) });
        return g.Node("Mul", p, new[] { x, s });
    }

    // A bias-free convolution with timm's symmetric padding for pad_type "".
    static string Conv(OnnxGraphBuilder g, ExportWeights w, string name, string x, int stride, long groups = 1)
    {
        var weight = w[name + ".weight"];
        return g.Conv(name, x, weight, null, stride, EfficientNetLayers.Padding((int)weight.shape[2], stride), groups);
    }

    static string Silu(OnnxGraphBuilder g, string name, string x) =>
        g.Node("Mul", name + ".act", new[] { x, g.Node("Sigmoid", name + ".act", new[] { x }) });
}

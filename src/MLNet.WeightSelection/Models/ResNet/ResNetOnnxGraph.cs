using MLNet.WeightSelection.Models.Onnx;

namespace MLNet.WeightSelection.Models.ResNet;

/// <summary>timm's ResNet forward pass (eval) as ONNX nodes; initializers keep timm's key names.</summary>
internal static class ResNetOnnxGraph
{
    /// <summary>Adds the network from normalized NCHW <paramref name="x"/>; returns the pooled features and the logits (null without fc).</summary>
    public static (string Features, string? Logits) Build(OnnxGraphBuilder g, string x, ExportWeights w, ResNetSpec spec)
    {
        var y = spec.DeepStem ? DeepStem(g, x, w) : g.Conv("conv1", x, w["conv1.weight"], null, 2, 3);
        y = g.Node("Relu", "act1", new[] { g.BatchNorm("bn1", y, w) });
        y = g.Node("MaxPool", "maxpool", new[] { y },
            ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 }));

        for (int s = 0; s < spec.Layers.Length; s++)
            for (int b = 0; b < spec.Layers[s]; b++)
                y = Block(g, y, w, $"layer{s + 1}.{b}", spec.Block, s > 0 && b == 0 ? 2 : 1);

        var features = g.GlobalAveragePoolFlat("global_pool", y);
        string? logits = w.Contains("fc.weight") ? g.Gemm("fc", features, w["fc.weight"], w["fc.bias"]) : null;
        return (features, logits);
    }

    static string DeepStem(OnnxGraphBuilder g, string x, ExportWeights w)
    {
        var y = g.Conv("conv1.0", x, w["conv1.0.weight"], null, 2, 1);
        y = g.Node("Relu", "conv1.2", new[] { g.BatchNorm("conv1.1", y, w) });
        y = g.Conv("conv1.3", y, w["conv1.3.weight"], null, 1, 1);
        y = g.Node("Relu", "conv1.5", new[] { g.BatchNorm("conv1.4", y, w) });
        return g.Conv("conv1.6", y, w["conv1.6.weight"], null, 1, 1);
    }

    static string Block(OnnxGraphBuilder g, string x, ExportWeights w, string p, ResNetBlock block, int stride)
    {
        string y;
        if (block == ResNetBlock.Basic)
        {
            y = g.Node("Relu", p + ".act1", new[] { g.BatchNorm(p + ".bn1", g.Conv(p + ".conv1", x, w[p + ".conv1.weight"], null, stride, 1), w) });
            y = g.BatchNorm(p + ".bn2", g.Conv(p + ".conv2", y, w[p + ".conv2.weight"], null, 1, 1), w);
        }
        else
        {
            y = g.Node("Relu", p + ".act1", new[] { g.BatchNorm(p + ".bn1", g.Conv(p + ".conv1", x, w[p + ".conv1.weight"], null, 1, 0), w) });
            y = g.Node("Relu", p + ".act2", new[] { g.BatchNorm(p + ".bn2", g.Conv(p + ".conv2", y, w[p + ".conv2.weight"], null, stride, 1), w) });
            y = g.BatchNorm(p + ".bn3", g.Conv(p + ".conv3", y, w[p + ".conv3.weight"], null, 1, 0), w);
        }
        return g.Node("Relu", p + ".act_out", new[] { g.Node("Add", p, new[] { y, Shortcut(g, x, w, p, stride) }) });
    }

    static string Shortcut(OnnxGraphBuilder g, string x, ExportWeights w, string p, int stride)
    {
        string d = p + ".downsample";
        if (w.Contains(d + ".0.weight"))
            return g.BatchNorm(d + ".1", g.Conv(d + ".0", x, w[d + ".0.weight"], null, stride, 0), w);
        if (!w.Contains(d + ".1.weight")) return x;
        // avg_down: 2×2 average pool (ceil mode, padding not counted) when strided, then 1×1 conv and BatchNorm.
        var pooled = stride == 1 ? x : g.Node("AveragePool", d + ".0", new[] { x },
            ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { stride, stride }), ("ceil_mode", 1L), ("count_include_pad", 0L));
        return g.BatchNorm(d + ".2", g.Conv(d + ".1", pooled, w[d + ".1.weight"], null, 1, 0), w);
    }
}

using MLNet.WeightSelection.Models.Onnx;

namespace MLNet.WeightSelection.Models.ConvNeXt;

/// <summary>timm's ConvNeXt forward pass (eval) as ONNX nodes: LayerNorm eps 1e-6, exact GELU, layer-scale gammas as Mul.</summary>
internal static class ConvNeXtOnnxGraph
{
    const float Eps = 1e-6f;

    /// <summary>Adds the network from normalized NCHW <paramref name="x"/>; returns the pooled, normed features and the logits (null without fc).</summary>
    public static (string Features, string? Logits) Build(OnnxGraphBuilder g, string x, ExportWeights w, ConvNeXtSpec spec)
    {
        var stemWeight = w["stem.0.weight"];
        var y = g.Conv("stem.0", x, stemWeight, w["stem.0.bias"], stemWeight.shape[2], 0);
        y = g.LayerNorm2d("stem.1", y, w, Eps);
        for (int s = 0; s < spec.Depths.Length; s++)
        {
            string p = $"stages.{s}";
            if (w.Contains(p + ".downsample.1.weight"))
            {
                y = g.LayerNorm2d(p + ".downsample.0", y, w, Eps);
                var dw = w[p + ".downsample.1.weight"];
                y = g.Conv(p + ".downsample.1", y, dw, w[p + ".downsample.1.bias"], dw.shape[2], 0);
            }
            for (int b = 0; b < spec.Depths[s]; b++)
                y = Block(g, y, w, $"{p}.blocks.{b}", spec.ConvMlp);
        }

        // timm's NormMlpClassifierHead: average pool, LayerNorm2d on the 1×1 map (= LayerNorm of the flat vector), flatten.
        var pooled = g.GlobalAveragePoolFlat("head.global_pool", y);
        var features = g.LayerNorm("head.norm", pooled, w["head.norm.weight"], w["head.norm.bias"], Eps);
        string? logits = w.Contains("head.fc.weight") ? g.Gemm("head.fc", features, w["head.fc.weight"], w["head.fc.bias"]) : null;
        return (features, logits);
    }

    static string Block(OnnxGraphBuilder g, string x, ExportWeights w, string p, bool convMlp)
    {
        var dwWeight = w[p + ".conv_dw.weight"];
        var y = g.Conv(p + ".conv_dw", x, dwWeight, w[p + ".conv_dw.bias"], 1, dwWeight.shape[2] / 2, groups: dwWeight.shape[0]);
        var gamma = w.Optional(p + ".gamma");
        if (convMlp)
        {
            y = g.LayerNorm2d(p + ".norm", y, w, Eps);
            y = g.Conv(p + ".mlp.fc1", y, w[p + ".mlp.fc1.weight"], w[p + ".mlp.fc1.bias"], 1, 0);
            y = g.Gelu(p + ".mlp.act", y);
            y = g.Conv(p + ".mlp.fc2", y, w[p + ".mlp.fc2.weight"], w[p + ".mlp.fc2.bias"], 1, 0);
            if (gamma is not null)
            {
                using var shaped = gamma.reshape(1, -1, 1, 1);
                y = g.Node("Mul", p + ".gamma", new[] { y, g.Initializer(p + ".gamma", shaped) });
            }
        }
        else
        {
            // Channels-last MLP as timm runs it: permute, LayerNorm, Linear, GELU, Linear, ×gamma, permute back.
            y = g.Transpose(p + ".permute", y, 0, 2, 3, 1);
            y = g.LayerNorm(p + ".norm", y, w[p + ".norm.weight"], w[p + ".norm.bias"], Eps);
            y = g.Linear(p + ".mlp.fc1", y, w[p + ".mlp.fc1.weight"], w[p + ".mlp.fc1.bias"]);
            y = g.Gelu(p + ".mlp.act", y);
            y = g.Linear(p + ".mlp.fc2", y, w[p + ".mlp.fc2.weight"], w[p + ".mlp.fc2.bias"]);
            if (gamma is not null) y = g.Node("Mul", p + ".gamma", new[] { y, g.Initializer(p + ".gamma", gamma) });
            y = g.Transpose(p + ".permute_back", y, 0, 3, 1, 2);
        }
        return g.Node("Add", p, new[] { y, x });
    }
}

using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.Onnx;

/// <summary>Convolution-family layers shared by the exporters, written through <see cref="OnnxGraphBuilder"/>.</summary>
internal static class OnnxGraphLayers
{
    /// <summary>Conv with PyTorch's symmetric padding; weight [out, in/groups, kh, kw].</summary>
    public static string Conv(this OnnxGraphBuilder g, string name, string x, Tensor weight, Tensor? bias, long stride, long pad, long groups = 1)
    {
        var inputs = new List<string> { x, g.Initializer(name + ".weight", weight) };
        if (bias is not null) inputs.Add(g.Initializer(name + ".bias", bias));
        return g.Node("Conv", name, inputs,
            ("kernel_shape", new[] { weight.shape[2], weight.shape[3] }),
            ("strides", new[] { stride, stride }),
            ("pads", new[] { pad, pad, pad, pad }),
            ("group", groups));
    }

    /// <summary>Inference BatchNormalization from timm's <c>{prefix}.weight/bias/running_mean/running_var</c>.</summary>
    public static string BatchNorm(this OnnxGraphBuilder g, string prefix, string x, ExportWeights w, float epsilon = 1e-5f) =>
        g.Node("BatchNormalization", prefix, new[]
        {
            x,
            g.Initializer(prefix + ".weight", w[prefix + ".weight"]),
            g.Initializer(prefix + ".bias", w[prefix + ".bias"]),
            g.Initializer(prefix + ".running_mean", w[prefix + ".running_mean"]),
            g.Initializer(prefix + ".running_var", w[prefix + ".running_var"]),
        }, ("epsilon", epsilon));

    /// <summary>timm's LayerNorm2d: LayerNormalization over channels of an NCHW map (by way of NHWC).</summary>
    public static string LayerNorm2d(this OnnxGraphBuilder g, string prefix, string x, ExportWeights w, float epsilon)
    {
        var nhwc = g.Transpose(prefix, x, 0, 2, 3, 1);
        var y = g.LayerNorm(prefix, nhwc, w[prefix + ".weight"], w[prefix + ".bias"], epsilon);
        return g.Transpose(prefix, y, 0, 3, 1, 2);
    }

    /// <summary>Global average pooling of an NCHW map to [N, C].</summary>
    public static string GlobalAveragePoolFlat(this OnnxGraphBuilder g, string name, string x) =>
        g.Node("Flatten", name, new[] { g.Node("GlobalAveragePool", name, new[] { x }) }, ("axis", 1L));
}

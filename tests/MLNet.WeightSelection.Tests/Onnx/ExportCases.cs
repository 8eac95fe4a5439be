using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.ConvNeXt;
using MLNet.WeightSelection.Models.EfficientNet;
using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Models.Swin;
using MLNet.WeightSelection.Models.Vit;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Onnx;

/// <summary>Tiny configurations of every family (32 px) and the TorchSharp reference for raw-pixel input.</summary>
internal static class ExportCases
{
    public static readonly IReadOnlyDictionary<string, ModelSpec> Specs = new Dictionary<string, ModelSpec>
    {
        ["vit_token_layerscale"] = new VisionTransformerSpec
        {
            ImageSize = 32, PatchSize = 4, EmbedDim = 32, Depth = 2, NumHeads = 2, InitValues = 0.1, NumClasses = 5,
        },
        ["vit_avg_no_class_token"] = new VisionTransformerSpec
        {
            ImageSize = 32, PatchSize = 8, EmbedDim = 24, Depth = 2, NumHeads = 3, ClassToken = false, GlobalPool = "avg",
            QkvBias = false, MlpRatio = 2, NumClasses = 4, Input = InputConvention.ImageNet,
        },
        ["vit_avgmax"] = new VisionTransformerSpec
        {
            ImageSize = 32, PatchSize = 8, EmbedDim = 16, Depth = 1, NumHeads = 2, GlobalPool = "avgmax", NumClasses = 3,
        },
        ["convnext_linear_mlp"] = new ConvNeXtSpec { Depths = new[] { 1, 1, 2, 1 }, Dims = new[] { 8, 16, 24, 32 }, NumClasses = 5, ImageSize = 32 },
        ["convnext_conv_mlp"] = new ConvNeXtSpec { Depths = new[] { 1, 1, 1, 1 }, Dims = new[] { 8, 8, 16, 16 }, ConvMlp = true, NumClasses = 3, ImageSize = 32 },
        ["resnet_basic"] = new ResNetSpec
        {
            Block = ResNetBlock.Basic, Layers = new[] { 1, 2, 1, 1 }, Channels = new[] { 8, 16, 16, 32 }, PlainStemWidth = 8, NumClasses = 5, ImageSize = 32,
        },
        ["resnet_bottleneck"] = new ResNetSpec
        {
            Block = ResNetBlock.Bottleneck, Layers = new[] { 2, 1, 1, 1 }, Channels = new[] { 4, 8, 8, 16 }, PlainStemWidth = 16, NumClasses = 6, ImageSize = 32,
        },
        ["resnet_deep_stem_avg_down"] = new ResNetSpec
        {
            Block = ResNetBlock.Basic, Layers = new[] { 1, 1, 1, 1 }, Channels = new[] { 8, 8, 16, 16 }, StemType = "deep_tiered", StemWidth = 8,
            AvgDown = true, NumClasses = 4, ImageSize = 32,
        },
        // ds blocks with and without a skip, ir blocks with k3/k5, stride 1 and 2, with and without SE.
        ["efficientnet_ds_ir_se"] = new EfficientNetSpec
        {
            ArchDef = new[]
            {
                new[] { "ds_r2_k3_s1_e1_c8_se0.25" },
                new[] { "ir_r2_k3_s2_e6_c16_se0.25" },
                new[] { "ir_r2_k5_s2_e4_c24" },
                new[] { "ir_r1_k3_s1_e6_c32_se0.25" },
            },
            StemSize = 16, NumFeatures = 48, NumClasses = 5, ImageSize = 32,
        },
        ["efficientnet_b0_narrow"] = new EfficientNetSpec { ChannelMultiplier = 0.25, DepthMultiplier = 0.5, NumFeatures = 64, NumClasses = 4, ImageSize = 32 },
        // Shifted windows of 3 on 16 and 8 px maps: padding to whole windows and the shift mask in both stages.
        ["swin_shift_pad"] = new SwinSpec
        {
            ImageSize = 32, PatchSize = 2, EmbedDim = 8, Depths = new[] { 2, 2 }, NumHeads = new[] { 1, 2 }, WindowSize = 3, NumClasses = 5,
        },
        // Window 7 on an 8 px map (padded to 14, shifted by 3), then clamped to the 4 px map of stage 1 (no shift);
        // no qkv bias, MLP ratio 2.
        ["swin_window_clamped"] = new SwinSpec
        {
            ImageSize = 32, PatchSize = 4, EmbedDim = 16, Depths = new[] { 2, 2 }, NumHeads = new[] { 2, 4 }, WindowSize = 7,
            QkvBias = false, MlpRatio = 2, NumClasses = 3,
        },
        // Three stages, head_dim fixed at 4 (inner widths 4, 8, 16 apart from the stage widths 8, 16, 32), windows that divide.
        ["swin_head_dim_three_stages"] = new SwinSpec
        {
            ImageSize = 32, PatchSize = 2, EmbedDim = 8, Depths = new[] { 1, 2, 1 }, NumHeads = new[] { 1, 2, 4 }, HeadDim = 4, WindowSize = 4,
            NumClasses = 4,
        },
    };

    public static IEnumerable<object[]> Names => Specs.Keys.Select(k => new object[] { k });

    /// <summary>A model of the named case with randomized weights, in eval mode.</summary>
    public static ImageClassifier Model(string name, int seed = 11) => RandomizedModels.Perturb(Specs[name].CreateModel(), seed);

    /// <summary>Raw pixels 0–255, planar, [n, 3, size, size].</summary>
    public static float[] Pixels(int n, int size, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n * 3 * size * size).Select(_ => (float)Math.Round(random.NextDouble() * 255)).ToArray();
    }

    /// <summary>TorchSharp's eval forward on raw planes given in <paramref name="pixelOrder"/>: softmax probabilities and pre-logits features.</summary>
    public static (float[] Probabilities, float[] Features) Reference(ImageClassifier model, float[] pixels, int n, int size, ChannelOrder pixelOrder = ChannelOrder.Rgb)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var c = model.Input;
        var x = tensor(pixels, new long[] { n, 3, size, size });
        if (pixelOrder != c.Order) x = x.flip(1);
        x = (x / c.Scale - tensor(c.Mean).reshape(1, 3, 1, 1)) / tensor(c.Std).reshape(1, 3, 1, 1);
        var probabilities = model.call(x).softmax(-1);
        var features = model.ForwardPreLogits(x);
        return (probabilities.data<float>().ToArray(), features.data<float>().ToArray());
    }
}

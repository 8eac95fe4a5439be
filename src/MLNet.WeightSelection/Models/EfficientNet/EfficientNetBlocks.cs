using MLNet.WeightSelection.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.EfficientNet;

/// <summary>Layers shared by the EfficientNet blocks, with timm's settings.</summary>
internal static class EfficientNetLayers
{
    /// <summary>BatchNorm2d with eps 1e-5 and momentum 0.1 (timm's non-TF EfficientNets), int64 <c>num_batches_tracked</c> as PyTorch.</summary>
    public static BatchNorm2d BatchNorm(int channels)
    {
        var bn = nn.BatchNorm2d(channels, eps: 1e-5, momentum: 0.1);
        if (bn.num_batches_tracked is { } n && n.dtype != ScalarType.Int64) bn.num_batches_tracked = tensor(0L, ScalarType.Int64);
        return bn;
    }

    /// <summary>timm's static padding for pad_type "": ((stride − 1) + (k − 1)) / 2 on every side.</summary>
    public static int Padding(int kernel, int stride) => ((stride - 1) + (kernel - 1)) / 2;

    /// <summary>A bias-free convolution as timm's <c>create_conv2d</c> makes it for pad_type "".</summary>
    public static Conv2d Conv(int inChannels, int outChannels, int kernel, int stride = 1, int groups = 1) =>
        nn.Conv2d(inChannels, outChannels, kernel, stride: stride, padding: Padding(kernel, stride), groups: groups, bias: false);
}

/// <summary>
/// timm's <c>SqueezeExcite</c> of the EfficientNet blocks: mean over H, W → <c>conv_reduce</c> (1×1, bias) → SiLU →
/// <c>conv_expand</c> (1×1, bias) → sigmoid gate, multiplied into the input.
/// </summary>
internal sealed class SqueezeExcite : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv_reduce;
    readonly Conv2d conv_expand;

    public SqueezeExcite(int channels, int reduced) : base(nameof(SqueezeExcite))
    {
        conv_reduce = nn.Conv2d(channels, reduced, 1, bias: true);
        conv_expand = nn.Conv2d(reduced, channels, 1, bias: true);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var s = nn.functional.silu(conv_reduce.call(x.mean(new long[] { 2, 3 }, keepdim: true)));
        return x.mul(conv_expand.call(s).sigmoid()).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// timm's <c>DepthwiseSeparableConv</c> (block string <c>ds</c>): <c>conv_dw</c> (depthwise, stride) → <c>bn1</c> + SiLU
/// → <c>se</c> → <c>conv_pw</c> (1×1) → <c>bn2</c> (no activation) → drop path, plus the input when the block has a skip.
/// </summary>
internal sealed class DepthwiseSeparableConv : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv_dw;
    readonly BatchNorm2d bn1;
    readonly SqueezeExcite? se;
    readonly Conv2d conv_pw;
    readonly BatchNorm2d bn2;
    readonly EfficientNetBlockConfig _config;

    public DepthwiseSeparableConv(EfficientNetBlockConfig c) : base(nameof(DepthwiseSeparableConv))
    {
        _config = c;
        conv_dw = EfficientNetLayers.Conv(c.InChannels, c.InChannels, c.KernelSize, c.Stride, groups: c.InChannels);
        bn1 = EfficientNetLayers.BatchNorm(c.InChannels);
        se = c.SeChannels > 0 ? new SqueezeExcite(c.InChannels, c.SeChannels) : null;
        conv_pw = EfficientNetLayers.Conv(c.InChannels, c.OutChannels, 1);
        bn2 = EfficientNetLayers.BatchNorm(c.OutChannels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = nn.functional.silu(bn1.call(SmallMapConvolution.Call(conv_dw, x))); // conv_dw.call, cropped on small maps
        if (se is not null) y = se.call(y);
        y = bn2.call(conv_pw.call(y));
        if (_config.HasSkip) y = DropPath.Apply(y, _config.DropPathRate, training).add(x);
        return y.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// timm's <c>InvertedResidual</c> (MBConv, block string <c>ir</c>): <c>conv_pw</c> (1×1 expansion) → <c>bn1</c> + SiLU →
/// <c>conv_dw</c> (depthwise, stride) → <c>bn2</c> + SiLU → <c>se</c> → <c>conv_pwl</c> (1×1 projection) → <c>bn3</c>
/// (no activation) → drop path, plus the input when the block has a skip.
/// </summary>
internal sealed class InvertedResidual : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv_pw;
    readonly BatchNorm2d bn1;
    readonly Conv2d conv_dw;
    readonly BatchNorm2d bn2;
    readonly SqueezeExcite? se;
    readonly Conv2d conv_pwl;
    readonly BatchNorm2d bn3;
    readonly EfficientNetBlockConfig _config;

    public InvertedResidual(EfficientNetBlockConfig c) : base(nameof(InvertedResidual))
    {
        _config = c;
        conv_pw = EfficientNetLayers.Conv(c.InChannels, c.MidChannels, 1);
        bn1 = EfficientNetLayers.BatchNorm(c.MidChannels);
        conv_dw = EfficientNetLayers.Conv(c.MidChannels, c.MidChannels, c.KernelSize, c.Stride, groups: c.MidChannels);
        bn2 = EfficientNetLayers.BatchNorm(c.MidChannels);
        se = c.SeChannels > 0 ? new SqueezeExcite(c.MidChannels, c.SeChannels) : null;
        conv_pwl = EfficientNetLayers.Conv(c.MidChannels, c.OutChannels, 1);
        bn3 = EfficientNetLayers.BatchNorm(c.OutChannels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = nn.functional.silu(bn1.call(conv_pw.call(x)));
        y = nn.functional.silu(bn2.call(SmallMapConvolution.Call(conv_dw, y))); // conv_dw.call, cropped on small maps
        if (se is not null) y = se.call(y);
        y = bn3.call(conv_pwl.call(y));
        if (_config.HasSkip) y = DropPath.Apply(y, _config.DropPathRate, training).add(x);
        return y.MoveToOuterDisposeScope();
    }
}

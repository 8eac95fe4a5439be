using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.ResNet;

/// <summary>The stem and shortcut pieces of timm's ResNet, built with timm's layouts (and so timm's key indices).</summary>
internal static class ResNetLayers
{
    /// <summary>BatchNorm2d with PyTorch's eps 1e-5 and momentum 0.1, and an int64 <c>num_batches_tracked</c> like PyTorch's.</summary>
    public static BatchNorm2d BatchNorm(int channels)
    {
        var bn = nn.BatchNorm2d(channels, eps: 1e-5, momentum: 0.1);
        if (bn.num_batches_tracked is { } n && n.dtype != ScalarType.Int64) bn.num_batches_tracked = tensor(0L, ScalarType.Int64);
        return bn;
    }

    /// <summary>
    /// Deep stem (<c>conv1</c> as a Sequential): 3×3 s2 conv, BN, ReLU, 3×3 conv, BN, ReLU, 3×3 conv, keys
    /// <c>conv1.0</c>, <c>.1</c>, <c>.3</c>, <c>.4</c>, <c>.6</c>. Tiered: the first conv has 3·(w/4) channels.
    /// </summary>
    public static Sequential DeepStem(int inChans, int stemWidth, bool tiered, int outChannels)
    {
        int first = tiered ? 3 * (stemWidth / 4) : stemWidth;
        return nn.Sequential(
            nn.Conv2d(inChans, first, 3, stride: 2, padding: 1, bias: false),
            BatchNorm(first),
            nn.ReLU(),
            nn.Conv2d(first, stemWidth, 3, padding: 1, bias: false),
            BatchNorm(stemWidth),
            nn.ReLU(),
            nn.Conv2d(stemWidth, outChannels, 3, padding: 1, bias: false));
    }

    /// <summary>
    /// The projection shortcut: [1×1 conv (stride), BN] (keys <c>downsample.0</c>, <c>.1</c>), or with avg_down
    /// [2×2 average pool (ceil, no padding counted) or identity, 1×1 conv, BN] (keys <c>downsample.1</c>, <c>.2</c>).
    /// </summary>
    public static Sequential Downsample(int inChannels, int outChannels, int stride, bool avgDown)
    {
        if (!avgDown)
            return nn.Sequential(nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false), BatchNorm(outChannels));
        nn.Module<Tensor, Tensor> pool = stride > 1
            ? nn.AvgPool2d(2, stride, ceil_mode: true, count_include_pad: false)
            : nn.Identity();
        return nn.Sequential(pool, nn.Conv2d(inChannels, outChannels, 1, bias: false), BatchNorm(outChannels));
    }
}

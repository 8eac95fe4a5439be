using MLNet.WeightSelection.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.ResNet;

/// <summary>
/// timm's <c>Bottleneck</c> (expansion 4): <c>conv1</c> 1×1 → <c>bn1</c> → ReLU → <c>conv2</c> 3×3 (stride) → <c>bn2</c>
/// → ReLU → <c>conv3</c> 1×1 to 4·planes → <c>bn3</c> → drop path, plus the (optionally <c>downsample</c>d) input, → ReLU.
/// </summary>
internal sealed class Bottleneck : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv1;
    readonly BatchNorm2d bn1;
    readonly Conv2d conv2;
    readonly BatchNorm2d bn2;
    readonly Conv2d conv3;
    readonly BatchNorm2d bn3;
    readonly Sequential? downsample;

    /// <summary>Creates the block.</summary>
    public Bottleneck(int inplanes, int planes, int stride, Sequential? downsample, double dropPath) : base(nameof(Bottleneck))
    {
        DropPathRate = dropPath;
        conv1 = nn.Conv2d(inplanes, planes, 1, bias: false);
        bn1 = ResNetLayers.BatchNorm(planes);
        conv2 = nn.Conv2d(planes, planes, 3, stride: stride, padding: 1, bias: false);
        bn2 = ResNetLayers.BatchNorm(planes);
        conv3 = nn.Conv2d(planes, planes * 4, 1, bias: false);
        bn3 = ResNetLayers.BatchNorm(planes * 4);
        this.downsample = downsample;
        RegisterComponents();
    }

    /// <summary>This block's stochastic-depth rate (train mode only).</summary>
    public double DropPathRate { get; }

    /// <summary>The BatchNorm that closes the residual branch (zeroed by timm's zero_init_last).</summary>
    internal BatchNorm2d LastNorm => bn3;

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = nn.functional.relu(bn1.call(conv1.call(x)));
        // Same as conv2.call; cheaper to train where the 3×3 kernel overhangs a 1×1 map.
        y = nn.functional.relu(bn2.call(SmallMapConvolution.Call(conv2, y)));
        y = DropPath.Apply(bn3.call(conv3.call(y)), DropPathRate, training);
        var shortcut = downsample is not null ? downsample.call(x) : x;
        return nn.functional.relu(y.add(shortcut)).MoveToOuterDisposeScope();
    }
}

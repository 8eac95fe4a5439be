using MLNet.WeightSelection.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.ResNet;

/// <summary>
/// timm's <c>BasicBlock</c> (expansion 1): <c>conv1</c> 3×3 (stride) → <c>bn1</c> → ReLU → <c>conv2</c> 3×3 →
/// <c>bn2</c> → drop path, plus the (optionally <c>downsample</c>d) input, → ReLU.
/// </summary>
internal sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv1;
    readonly BatchNorm2d bn1;
    readonly Conv2d conv2;
    readonly BatchNorm2d bn2;
    readonly Sequential? downsample;

    /// <summary>Creates the block.</summary>
    public BasicBlock(int inplanes, int planes, int stride, Sequential? downsample, double dropPath) : base(nameof(BasicBlock))
    {
        DropPathRate = dropPath;
        conv1 = nn.Conv2d(inplanes, planes, 3, stride: stride, padding: 1, bias: false);
        bn1 = ResNetLayers.BatchNorm(planes);
        conv2 = nn.Conv2d(planes, planes, 3, padding: 1, bias: false);
        bn2 = ResNetLayers.BatchNorm(planes);
        this.downsample = downsample;
        RegisterComponents();
    }

    /// <summary>This block's stochastic-depth rate (train mode only).</summary>
    public double DropPathRate { get; }

    /// <summary>The BatchNorm that closes the residual branch (zeroed by timm's zero_init_last).</summary>
    internal BatchNorm2d LastNorm => bn2;

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        // Same as conv.call; cheaper to train where a 3×3 kernel overhangs a 2×2 or 1×1 map (the last stages at 32 px).
        var y = nn.functional.relu(bn1.call(SmallMapConvolution.Call(conv1, x)));
        y = DropPath.Apply(bn2.call(SmallMapConvolution.Call(conv2, y)), DropPathRate, training);
        var shortcut = downsample is not null ? downsample.call(x) : x;
        return nn.functional.relu(y.add(shortcut)).MoveToOuterDisposeScope();
    }
}

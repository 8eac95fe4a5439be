using MLNet.WeightSelection.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.ConvNeXt;

/// <summary>
/// timm's <c>ConvNeXtStage</c>: for stages after the first, <c>downsample</c> = [LayerNorm2d, 2×2 stride-2 conv]
/// (keys <c>downsample.0</c>, <c>downsample.1</c>); then <c>blocks.B</c>.
/// </summary>
internal sealed class ConvNeXtStage : nn.Module<Tensor, Tensor>
{
    readonly Sequential? downsample;
    readonly ModuleList<ConvNeXtBlock> blocks;

    /// <summary>Creates a stage from <paramref name="inChannels"/> to <paramref name="outChannels"/>.</summary>
    public ConvNeXtStage(int inChannels, int outChannels, bool downsampleInput, int depth, bool convMlp,
        double? lsInitValue, IReadOnlyList<double> dropPathRates) : base(nameof(ConvNeXtStage))
    {
        downsample = downsampleInput || inChannels != outChannels
            ? nn.Sequential(new LayerNorm2d(inChannels, 1e-6),
                nn.Conv2d(inChannels, outChannels, downsampleInput ? 2 : 1, stride: downsampleInput ? 2 : 1, bias: true))
            : null;
        blocks = new ModuleList<ConvNeXtBlock>(
            Enumerable.Range(0, depth).Select(i => new ConvNeXtBlock(outChannels, convMlp, lsInitValue, dropPathRates[i])).ToArray());
        RegisterComponents();
    }

    /// <summary>The stage's blocks (<c>blocks.B</c>).</summary>
    public IReadOnlyList<ConvNeXtBlock> Blocks => blocks.ToList();

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = downsample is not null ? downsample.call(x) : x;
        foreach (var block in blocks) y = block.call(y);
        if (ReferenceEquals(y, x)) y = x.alias();
        return y.MoveToOuterDisposeScope();
    }
}

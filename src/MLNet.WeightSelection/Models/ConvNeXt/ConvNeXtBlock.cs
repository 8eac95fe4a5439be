using MLNet.WeightSelection.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.ConvNeXt;

/// <summary>
/// timm's <c>ConvNeXtBlock</c>: 7×7 depthwise <c>conv_dw</c> → <c>norm</c> → <c>mlp</c> (fc1, GELU, fc2) → ×<c>gamma</c>
/// → drop path, plus the input. With conv_mlp the norm is LayerNorm2d and the MLP 1×1 convolutions on NCHW; otherwise
/// the map is permuted to channels-last for a LayerNorm and Linear MLP. LayerNorm eps is 1e-6.
/// </summary>
internal sealed class ConvNeXtBlock : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv_dw;
    readonly nn.Module<Tensor, Tensor> norm;
    readonly Mlp mlp;
    readonly Parameter? gamma;
    readonly bool _convMlp;

    /// <summary>Creates a block of <paramref name="dim"/> channels.</summary>
    public ConvNeXtBlock(int dim, bool convMlp, double? lsInitValue, double dropPath) : base(nameof(ConvNeXtBlock))
    {
        _convMlp = convMlp;
        DropPathRate = dropPath;
        conv_dw = nn.Conv2d(dim, dim, 7, padding: 3, groups: dim, bias: true);
        norm = convMlp ? new LayerNorm2d(dim, 1e-6) : nn.LayerNorm(dim, eps: 1e-6);
        mlp = new Mlp(dim, 4 * dim, useConv: convMlp);
        gamma = lsInitValue is { } v ? new Parameter(full(dim, v)) : null;
        RegisterComponents();
    }

    /// <summary>This block's stochastic-depth rate (train mode only).</summary>
    public double DropPathRate { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        // Same as conv_dw.call(x); cheaper to train when the 7×7 kernel overhangs a small map.
        var y = SmallMapConvolution.Call(conv_dw, x);
        y = _convMlp
            ? mlp.call(norm.call(y))
            : mlp.call(norm.call(y.permute(0, 2, 3, 1))).permute(0, 3, 1, 2);
        if (gamma is not null) y = y.mul(gamma.reshape(1, -1, 1, 1));
        return DropPath.Apply(y, DropPathRate, training).add(x).MoveToOuterDisposeScope();
    }
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.Layers;

/// <summary>
/// LayerNorm over the channels of NCHW maps (timm's <c>LayerNorm2d</c>): permutes to channels-last, normalizes the
/// last axis, permutes back. Parameters <c>weight</c> and <c>bias</c> of shape [C]; timm's eps default is 1e-6.
/// </summary>
public sealed class LayerNorm2d : nn.Module<Tensor, Tensor>
{
    readonly Parameter weight;
    readonly Parameter bias;
    readonly long[] _shape;

    /// <summary>Creates the module with weight 1 and bias 0.</summary>
    public LayerNorm2d(long channels, double eps = 1e-6) : base(nameof(LayerNorm2d))
    {
        Eps = eps;
        _shape = new[] { channels };
        weight = new Parameter(ones(channels));
        bias = new Parameter(zeros(channels));
        RegisterComponents();
    }

    /// <summary>The epsilon added to the variance.</summary>
    public double Eps { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = nn.functional.layer_norm(x.permute(0, 2, 3, 1), _shape, weight, bias, Eps).permute(0, 3, 1, 2);
        return y.MoveToOuterDisposeScope();
    }
}

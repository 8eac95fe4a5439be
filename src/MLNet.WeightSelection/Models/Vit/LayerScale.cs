using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.Vit;

/// <summary>timm's <c>LayerScale</c>: multiplies the last axis by a learned <c>gamma</c> initialized to init_values.</summary>
internal sealed class LayerScale : nn.Module<Tensor, Tensor>
{
    readonly Parameter gamma;

    /// <summary>Creates the layer with every gamma equal to <paramref name="initValues"/>.</summary>
    public LayerScale(int dim, double initValues) : base(nameof(LayerScale))
    {
        gamma = new Parameter(full(dim, initValues));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => x.mul(gamma);
}

using MLNet.WeightSelection.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.Vit;

/// <summary>
/// timm's pre-norm transformer block: x + drop_path(ls1(attn(norm1(x)))), then x + drop_path(ls2(mlp(norm2(x)))).
/// LayerNorms use eps 1e-6 as timm's ViT does.
/// </summary>
internal sealed class Block : nn.Module<Tensor, Tensor>
{
    readonly LayerNorm norm1;
    readonly Attention attn;
    readonly LayerScale? ls1;
    readonly LayerNorm norm2;
    readonly Mlp mlp;
    readonly LayerScale? ls2;

    /// <summary>Creates block with the given stochastic-depth rate.</summary>
    public Block(VisionTransformerSpec spec, double dropPath) : base(nameof(Block))
    {
        DropPathRate = dropPath;
        norm1 = nn.LayerNorm(spec.EmbedDim, eps: 1e-6);
        attn = new Attention(spec.EmbedDim, spec.NumHeads, spec.QkvBias);
        ls1 = spec.UsesLayerScale ? new LayerScale(spec.EmbedDim, spec.InitValues!.Value) : null;
        norm2 = nn.LayerNorm(spec.EmbedDim, eps: 1e-6);
        mlp = new Mlp(spec.EmbedDim, spec.MlpHiddenDim);
        ls2 = spec.UsesLayerScale ? new LayerScale(spec.EmbedDim, spec.InitValues!.Value) : null;
        RegisterComponents();
    }

    /// <summary>This block's stochastic-depth rate (train mode only).</summary>
    public double DropPathRate { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = attn.call(norm1.call(x));
        if (ls1 is not null) y = ls1.call(y);
        x = x.add(DropPath.Apply(y, DropPathRate, training));
        var z = mlp.call(norm2.call(x));
        if (ls2 is not null) z = ls2.call(z);
        return x.add(DropPath.Apply(z, DropPathRate, training)).MoveToOuterDisposeScope();
    }
}

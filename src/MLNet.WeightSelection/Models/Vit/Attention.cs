using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.Vit;

/// <summary>
/// timm's multi-head self-attention: fused <c>qkv</c> Linear (dim → 3·dim, laid out [q; k; v], heads inside each),
/// softmax(q·kᵀ · head_dim^-0.5)·v, then <c>proj</c>.
/// </summary>
internal sealed class Attention : nn.Module<Tensor, Tensor>
{
    readonly Linear qkv;
    readonly Linear proj;
    readonly int _numHeads;
    readonly int _headDim;
    readonly double _scale;

    /// <summary>Creates the attention layer.</summary>
    public Attention(int dim, int numHeads, bool qkvBias) : base(nameof(Attention))
    {
        _numHeads = numHeads;
        _headDim = dim / numHeads;
        _scale = Math.Pow(_headDim, -0.5);
        qkv = nn.Linear(dim, dim * 3, hasBias: qkvBias);
        proj = nn.Linear(dim, dim);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], n = x.shape[1], c = x.shape[2];
        var parts = qkv.call(x).reshape(b, n, 3, _numHeads, _headDim).permute(2, 0, 3, 1, 4).unbind(0);
        var q = parts[0].mul(_scale);
        var attn = q.matmul(parts[1].transpose(-2, -1)).softmax(-1);
        var y = attn.matmul(parts[2]).transpose(1, 2).reshape(b, n, c);
        return proj.call(y).MoveToOuterDisposeScope();
    }
}

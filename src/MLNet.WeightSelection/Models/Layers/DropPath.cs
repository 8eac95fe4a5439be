using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.Layers;

/// <summary>
/// Stochastic depth (timm's <c>DropPath</c>): in train mode, zeroes a whole residual branch per sample with
/// probability <see cref="DropProbability"/> and scales the kept samples by 1 / (1 − p); in eval mode, the identity.
/// </summary>
public sealed class DropPath : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the module.</summary>
    /// <param name="dropProbability">Probability of dropping the branch of one sample, in [0, 1).</param>
    public DropPath(double dropProbability) : base(nameof(DropPath))
    {
        if (dropProbability is < 0 or >= 1 || double.IsNaN(dropProbability))
            throw new ArgumentOutOfRangeException(nameof(dropProbability), dropProbability, "A drop-path rate must lie in [0, 1).");
        DropProbability = dropProbability;
    }

    /// <summary>Probability of dropping the branch of one sample.</summary>
    public double DropProbability { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => Apply(x, DropProbability, training);

    /// <summary>timm's <c>drop_path</c>: <paramref name="x"/> itself when not training or p = 0, otherwise a new tensor.</summary>
    public static Tensor Apply(Tensor x, double p, bool training)
    {
        if (p == 0 || !training) return x;
        double keep = 1 - p;
        var shape = new long[x.dim()];
        shape[0] = x.shape[0];
        for (int i = 1; i < shape.Length; i++) shape[i] = 1;
        using var mask = empty(shape, x.dtype, x.device).bernoulli_(keep);
        mask.div_(keep);
        return x.mul(mask);
    }
}

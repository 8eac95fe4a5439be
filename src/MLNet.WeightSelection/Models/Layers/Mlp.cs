using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.Layers;

/// <summary>
/// timm's <c>Mlp</c>: <c>fc1</c> → GELU → dropout → <c>fc2</c> → dropout. With <c>useConv</c> the two layers are 1×1
/// convolutions on NCHW maps (weights [out, in, 1, 1]); otherwise Linear layers on the last axis (weights [out, in]).
/// </summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    readonly nn.Module<Tensor, Tensor> fc1;
    readonly nn.Module<Tensor, Tensor> act;
    readonly nn.Module<Tensor, Tensor> drop1;
    readonly nn.Module<Tensor, Tensor> fc2;
    readonly nn.Module<Tensor, Tensor> drop2;

    /// <summary>Creates the MLP.</summary>
    /// <param name="inFeatures">Input (and output) width.</param>
    /// <param name="hiddenFeatures">Hidden width.</param>
    /// <param name="useConv">1×1 convolutions on NCHW instead of Linear layers on the last axis.</param>
    /// <param name="drop">Dropout after the activation and after <c>fc2</c> (timm's <c>proj_drop</c>).</param>
    public Mlp(long inFeatures, long hiddenFeatures, bool useConv = false, double drop = 0) : base(nameof(Mlp))
    {
        UseConv = useConv;
        fc1 = useConv ? nn.Conv2d(inFeatures, hiddenFeatures, 1) : nn.Linear(inFeatures, hiddenFeatures);
        act = nn.GELU();
        drop1 = nn.Dropout(drop);
        fc2 = useConv ? nn.Conv2d(hiddenFeatures, inFeatures, 1) : nn.Linear(hiddenFeatures, inFeatures);
        drop2 = nn.Dropout(drop);
        RegisterComponents();
    }

    /// <summary>True when <c>fc1</c>/<c>fc2</c> are 1×1 convolutions.</summary>
    public bool UseConv { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = drop2.call(fc2.call(drop1.call(act.call(fc1.call(x)))));
        return y.MoveToOuterDisposeScope();
    }
}

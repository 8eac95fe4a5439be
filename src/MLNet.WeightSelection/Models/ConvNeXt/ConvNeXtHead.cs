using MLNet.WeightSelection.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.ConvNeXt;

/// <summary>
/// timm's <c>NormMlpClassifierHead</c> as ConvNeXt uses it: global average pool → <c>norm</c> (LayerNorm2d, eps 1e-6)
/// → flatten → dropout → <c>fc</c>. Keys <c>head.norm.*</c> and <c>head.fc.*</c>.
/// </summary>
internal sealed class ConvNeXtHead : nn.Module<Tensor, bool, Tensor>
{
    readonly LayerNorm2d norm;
    Linear? fc;
    readonly int _inFeatures;
    readonly double _dropRate;

    /// <summary>Creates the head.</summary>
    public ConvNeXtHead(int inFeatures, int numClasses, double dropRate) : base(nameof(ConvNeXtHead))
    {
        _inFeatures = inFeatures;
        _dropRate = dropRate;
        norm = new LayerNorm2d(inFeatures, 1e-6);
        fc = numClasses > 0 ? nn.Linear(inFeatures, numClasses) : null;
        RegisterComponents();
    }

    /// <summary>The classifier, or null for an identity head.</summary>
    public Linear? Fc => fc;

    /// <summary>Pools and classifies NCHW <paramref name="x"/>; with <paramref name="preLogits"/>, stops before <c>fc</c>.</summary>
    public override Tensor forward(Tensor x, bool preLogits)
    {
        using var scope = NewDisposeScope();
        var y = norm.call(x.mean(new long[] { 2, 3 }, keepdim: true)).flatten(1);
        if (training && _dropRate > 0) y = nn.functional.dropout(y, _dropRate, training: true);
        if (!preLogits && fc is not null) y = fc.call(y);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Replaces <c>fc</c> with a new truncated-normal one for <paramref name="numClasses"/> classes (0: identity).</summary>
    public void Reset(int numClasses)
    {
        var old = fc;
        register_module("fc", null!);
        fc = numClasses > 0 ? nn.Linear(_inFeatures, numClasses) : null;
        if (fc is not null)
        {
            Init.TruncNormalLinear(fc);
            register_module("fc", fc);
        }
        old?.Dispose();
    }
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.EfficientNet;

/// <summary>
/// timm's <c>EfficientNet</c> (B0–B8 layout) with timm's names: <c>conv_stem</c> (3×3 stride 2), <c>bn1</c>,
/// <c>blocks.S.B</c> (a <c>DepthwiseSeparableConv</c>: <c>conv_dw, bn1, se.conv_reduce, se.conv_expand, conv_pw, bn2</c>;
/// or an <c>InvertedResidual</c>: <c>conv_pw, bn1, conv_dw, bn2, se.*, conv_pwl, bn3</c>), <c>conv_head</c> (1×1),
/// <c>bn2</c>, <c>classifier</c>. SiLU after every BatchNorm but the blocks' last, BatchNorm eps 1e-5, momentum 0.1.
/// </summary>
public sealed class EfficientNet : ImageClassifier
{
    readonly Conv2d conv_stem;
    readonly BatchNorm2d bn1;
    readonly ModuleList<Sequential> blocks;
    readonly Conv2d conv_head;
    readonly BatchNorm2d bn2;
    Linear? classifier;

    EfficientNetSpec _spec;

    /// <summary>Builds the model from <paramref name="spec"/> with timm's initialization (<c>_init_weight_goog</c>).</summary>
    public EfficientNet(EfficientNetSpec spec) : base(nameof(EfficientNet))
    {
        spec.Validate();
        _spec = spec;
        Input = spec.Input;
        int stem = spec.StemChannels;
        conv_stem = EfficientNetLayers.Conv(spec.InChans, stem, 3, stride: 2);
        bn1 = EfficientNetLayers.BatchNorm(stem);
        var stages = spec.Blocks();
        blocks = new ModuleList<Sequential>(stages.Select(stage => nn.Sequential(stage.Select(c =>
            c.Type == EfficientNetBlockType.InvertedResidual
                ? (nn.Module<Tensor, Tensor>)new InvertedResidual(c)
                : new DepthwiseSeparableConv(c)).ToArray())).ToArray());
        int headIn = stages[^1][^1].OutChannels;
        conv_head = EfficientNetLayers.Conv(headIn, spec.NumFeatures, 1);
        bn2 = EfficientNetLayers.BatchNorm(spec.NumFeatures);
        classifier = spec.NumClasses > 0 ? nn.Linear(spec.NumFeatures, spec.NumClasses) : null;
        RegisterComponents();
        InitWeights();
    }

    /// <inheritdoc />
    public override ModelSpec Spec => _spec;

    /// <summary>The spec as its family record.</summary>
    public EfficientNetSpec EfficientNetSpec => _spec;

    /// <inheritdoc />
    public override int NumFeatures => _spec.NumFeatures;

    /// <inheritdoc />
    public override int NumClasses => _spec.NumClasses;

    /// <inheritdoc />
    public override IReadOnlyList<string> ClassifierKeys =>
        classifier is null ? Array.Empty<string>() : new[] { "classifier.weight", "classifier.bias" };

    /// <summary>The head's map after <c>conv_head</c>, <c>bn2</c> and SiLU: [B, num_features, H/32, W/32] for B0–B8.</summary>
    public override Tensor ForwardFeatures(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = nn.functional.silu(bn1.call(conv_stem.call(x)));
        foreach (var stage in blocks) y = stage.call(y);
        y = nn.functional.silu(bn2.call(conv_head.call(y)));
        return y.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override Tensor ForwardHead(Tensor features, bool preLogits = false)
    {
        using var scope = NewDisposeScope();
        var y = features.mean(new long[] { 2, 3 });
        if (training && _spec.DropRate > 0) y = nn.functional.dropout(y, _spec.DropRate, training: true);
        if (!preLogits && classifier is not null) y = classifier.call(y);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Replaces <c>classifier</c> with a new one for <paramref name="numClasses"/> classes (0: identity), with PyTorch's
    /// default Linear initialization, as timm's <c>reset_classifier</c> (which does not re-run the EfficientNet init).
    /// </summary>
    public override void ResetClassifier(int numClasses)
    {
        if (numClasses < 0) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "The number of classes must be >= 0.");
        var old = classifier;
        register_module("classifier", null!);
        classifier = numClasses > 0 ? nn.Linear(_spec.NumFeatures, numClasses) : null;
        if (classifier is not null) register_module("classifier", classifier);
        old?.Dispose();
        _spec = _spec with { NumClasses = numClasses };
    }

    // timm's _init_weight_goog: convolutions normal(0, sqrt(2 / fan_out)) with fan_out = k·k·out / groups, BatchNorm
    // ones and zeros (TorchSharp's defaults), Linear uniform(±1 / sqrt(out_features)) with a zero bias.
    void InitWeights()
    {
        using var _ = no_grad();
        foreach (var module in modules())
        {
            if (module is Conv2d conv)
            {
                var w = conv.weight!;
                long fanOut = w.shape[0] * w.shape[2] * w.shape[3] / conv.groups;
                nn.init.normal_(w, 0, Math.Sqrt(2.0 / fanOut));
                if (conv.bias is { } b) nn.init.zeros_(b);
            }
            else if (module is Linear linear)
            {
                double range = 1.0 / Math.Sqrt(linear.weight!.shape[0]);
                nn.init.uniform_(linear.weight!, -range, range);
                if (linear.bias is { } b) nn.init.zeros_(b);
            }
        }
    }
}

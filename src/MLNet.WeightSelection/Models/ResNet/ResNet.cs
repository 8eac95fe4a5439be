using MLNet.WeightSelection.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.ResNet;

/// <summary>
/// timm's <c>ResNet</c> with timm's names: <c>conv1</c> (7×7 stem, or a deep stem <c>conv1.{0,1,3,4,6}</c>), <c>bn1</c>,
/// <c>layerS.B.{conv1, bn1, conv2, bn2[, conv3, bn3]}</c>, <c>layerS.0.downsample.{0,1}</c> (avg_down:
/// <c>.{1,2}</c>), <c>fc</c>. BatchNorm eps 1e-5, momentum 0.1.
/// </summary>
public sealed class ResNet : ImageClassifier
{
    readonly nn.Module<Tensor, Tensor> conv1;
    readonly BatchNorm2d bn1;
    readonly List<Sequential> _stages = new();
    Linear? fc;

    ResNetSpec _spec;

    /// <summary>Builds the model from <paramref name="spec"/> with timm's initialization.</summary>
    public ResNet(ResNetSpec spec) : base(nameof(ResNet))
    {
        spec.Validate();
        _spec = spec;
        Input = spec.Input;
        int inplanes = spec.StemChannels;
        conv1 = spec.DeepStem
            ? ResNetLayers.DeepStem(spec.InChans, spec.StemWidth, spec.StemType == "deep_tiered", inplanes)
            : nn.Conv2d(spec.InChans, inplanes, 7, stride: 2, padding: 3, bias: false);
        bn1 = ResNetLayers.BatchNorm(inplanes);
        register_module("conv1", conv1);
        register_module("bn1", bn1);

        int totalBlocks = spec.Layers.Sum(), blockIndex = 0;
        for (int s = 0; s < spec.Layers.Length; s++)
        {
            int planes = spec.Channels[s], stride = s == 0 ? 1 : 2, outChannels = planes * spec.Expansion;
            var blocks = new List<nn.Module<Tensor, Tensor>>();
            for (int b = 0; b < spec.Layers[s]; b++, blockIndex++)
            {
                var downsample = b == 0 && (stride != 1 || inplanes != outChannels)
                    ? ResNetLayers.Downsample(inplanes, outChannels, stride, spec.AvgDown) : null;
                double dropPath = totalBlocks > 1 ? spec.DropPathRate * blockIndex / (totalBlocks - 1) : 0;
                blocks.Add(spec.Block == ResNetBlock.Basic
                    ? new BasicBlock(inplanes, planes, b == 0 ? stride : 1, downsample, dropPath)
                    : new Bottleneck(inplanes, planes, b == 0 ? stride : 1, downsample, dropPath));
                inplanes = outChannels;
            }
            var stage = nn.Sequential(blocks.ToArray());
            _stages.Add(stage);
            register_module($"layer{s + 1}", stage);
        }
        fc = spec.NumClasses > 0 ? nn.Linear(spec.NumFeatures, spec.NumClasses) : null;
        if (fc is not null) register_module("fc", fc);
        RegisterComponents();
        InitWeights();
    }

    /// <inheritdoc />
    public override ModelSpec Spec => _spec;

    /// <summary>The spec as its family record.</summary>
    public ResNetSpec ResNetSpec => _spec;

    /// <summary>The residual blocks of each stage (<c>layer{S+1}.B</c>): <see cref="BasicBlock"/> or <see cref="Bottleneck"/>.</summary>
    public IReadOnlyList<IReadOnlyList<nn.Module<Tensor, Tensor>>> Stages =>
        _stages.Select(s => (IReadOnlyList<nn.Module<Tensor, Tensor>>)s.children().Cast<nn.Module<Tensor, Tensor>>().ToList()).ToList();

    /// <inheritdoc />
    public override int NumFeatures => _spec.NumFeatures;

    /// <inheritdoc />
    public override int NumClasses => _spec.NumClasses;

    /// <inheritdoc />
    public override IReadOnlyList<string> ClassifierKeys =>
        fc is null ? Array.Empty<string>() : new[] { "fc.weight", "fc.bias" };

    /// <summary>The last stage's map: [B, channels[^1]·expansion, H/32, W/32].</summary>
    public override Tensor ForwardFeatures(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = nn.functional.relu(bn1.call(conv1.call(x)));
        y = nn.functional.max_pool2d(y, 3, 2, 1);
        foreach (var stage in _stages) y = stage.call(y);
        return y.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override Tensor ForwardHead(Tensor features, bool preLogits = false)
    {
        using var scope = NewDisposeScope();
        var y = features.mean(new long[] { 2, 3 });
        if (training && _spec.DropRate > 0) y = nn.functional.dropout(y, _spec.DropRate, training: true);
        if (!preLogits && fc is not null) y = fc.call(y);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Replaces <c>fc</c> with a new one (PyTorch's default Linear init, as timm's reset_classifier) for <paramref name="numClasses"/> classes.</summary>
    public override void ResetClassifier(int numClasses)
    {
        if (numClasses < 0) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "The number of classes must be >= 0.");
        var old = fc;
        register_module("fc", null!);
        fc = numClasses > 0 ? nn.Linear(_spec.NumFeatures, numClasses) : null;
        if (fc is not null) register_module("fc", fc);
        old?.Dispose();
        _spec = _spec with { NumClasses = numClasses };
    }

    void InitWeights()
    {
        foreach (var module in modules())
            if (module is Conv2d conv) Init.KaimingNormalFanOut(conv);
        if (!_spec.ZeroInitLast) return;
        using var _ = no_grad();
        foreach (var module in modules())
        {
            var last = module switch { BasicBlock b => b.LastNorm, Bottleneck b => b.LastNorm, _ => null };
            if (last?.weight is { } w) nn.init.zeros_(w);
        }
    }
}

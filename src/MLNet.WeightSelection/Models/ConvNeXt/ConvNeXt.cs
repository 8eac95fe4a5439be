using MLNet.WeightSelection.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.ConvNeXt;

/// <summary>
/// timm's <c>ConvNeXt</c> (patch stem, four stages, norm-after-pool head) with timm's names: <c>stem.0</c> (4×4
/// stride-4 conv), <c>stem.1</c> (LayerNorm2d), <c>stages.S.downsample.{0,1}</c> for S &gt; 0,
/// <c>stages.S.blocks.B.{conv_dw, norm, mlp.fc1, mlp.fc2, gamma}</c>, <c>head.norm</c>, <c>head.fc</c>.
/// </summary>
public sealed class ConvNeXt : ImageClassifier
{
    readonly Sequential stem;
    readonly ModuleList<ConvNeXtStage> stages;
    readonly ConvNeXtHead head;

    ConvNeXtSpec _spec;

    /// <summary>Builds the model from <paramref name="spec"/> with timm's initialization.</summary>
    public ConvNeXt(ConvNeXtSpec spec) : base(nameof(ConvNeXt))
    {
        spec.Validate();
        _spec = spec;
        Input = spec.Input;
        var dims = spec.Dims;
        stem = nn.Sequential(nn.Conv2d(spec.InChans, dims[0], 4, stride: 4, bias: true), new LayerNorm2d(dims[0], 1e-6));
        var rates = Init.LinearDropPathRates(spec.DropPathRate, spec.Depths.Sum());
        var stageList = new List<ConvNeXtStage>();
        int offset = 0;
        for (int i = 0; i < 4; i++)
        {
            var stageRates = rates.Skip(offset).Take(spec.Depths[i]).ToArray();
            offset += spec.Depths[i];
            stageList.Add(new ConvNeXtStage(i == 0 ? dims[0] : dims[i - 1], dims[i], downsampleInput: i > 0,
                spec.Depths[i], spec.ConvMlp, spec.LsInitValue, stageRates));
        }
        stages = new ModuleList<ConvNeXtStage>(stageList.ToArray());
        head = new ConvNeXtHead(spec.NumFeatures, spec.NumClasses, spec.DropRate);
        RegisterComponents();
        InitWeights();
    }

    /// <inheritdoc />
    public override ModelSpec Spec => _spec;

    /// <summary>The spec as its family record.</summary>
    public ConvNeXtSpec ConvNeXtSpec => _spec;

    /// <summary>The four stages (<c>stages.S</c>).</summary>
    internal IReadOnlyList<ConvNeXtStage> Stages => stages.ToList();

    /// <inheritdoc />
    public override int NumFeatures => _spec.NumFeatures;

    /// <inheritdoc />
    public override int NumClasses => _spec.NumClasses;

    /// <inheritdoc />
    public override IReadOnlyList<string> ClassifierKeys =>
        head.Fc is null ? Array.Empty<string>() : new[] { "head.fc.weight", "head.fc.bias" };

    /// <summary>The last stage's map: [B, dims[3], H/32, W/32].</summary>
    public override Tensor ForwardFeatures(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = stem.call(x);
        foreach (var stage in stages) y = stage.call(y);
        return y.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override Tensor ForwardHead(Tensor features, bool preLogits = false) => head.call(features, preLogits);

    /// <inheritdoc />
    public override void ResetClassifier(int numClasses)
    {
        if (numClasses < 0) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "The number of classes must be >= 0.");
        head.Reset(numClasses);
        _spec = _spec with { NumClasses = numClasses };
    }

    void InitWeights()
    {
        foreach (var module in modules())
        {
            if (module is Conv2d conv) Init.TruncNormalConv(conv);
            else if (module is Linear linear) Init.TruncNormalLinear(linear);
        }
    }
}

using MLNet.WeightSelection.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.Swin;

/// <summary>
/// timm's <c>SwinTransformer</c> with timm's parameter names: <c>patch_embed.{proj, norm}</c>,
/// <c>layers.S.downsample.{norm, reduction}</c> (stages 1…), <c>layers.S.blocks.B.{norm1, attn.relative_position_bias_table,
/// attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}</c>, <c>norm</c> and <c>head.fc</c>. The maps stay channels last
/// ([B, H, W, C]) as in timm; the relative position index and the shift masks are not in the state dict (timm's
/// non-persistent buffers).
/// </summary>
public sealed class SwinTransformer : ImageClassifier
{
    readonly SwinPatchEmbed patch_embed;
    readonly ModuleList<SwinTransformerStage> layers;
    readonly LayerNorm norm;
    readonly SwinHead head;

    SwinSpec _spec;

    /// <summary>Builds the model from <paramref name="spec"/> with timm's initialization.</summary>
    public SwinTransformer(SwinSpec spec) : base(nameof(SwinTransformer))
    {
        spec.Validate();
        _spec = spec;
        Input = spec.Input;
        patch_embed = new SwinPatchEmbed(spec);
        // timm's calculate_drop_path_rates(stagewise): linspace over every block, split by stage.
        var rates = Init.LinearDropPathRates(spec.DropPathRate, spec.Depths.Sum());
        int first = 0;
        var stages = new List<SwinTransformerStage>();
        for (int s = 0; s < spec.NumStages; s++)
        {
            stages.Add(new SwinTransformerStage(spec, s, rates.Skip(first).Take(spec.Depths[s]).ToArray()));
            first += spec.Depths[s];
        }
        layers = new ModuleList<SwinTransformerStage>(stages.ToArray());
        norm = nn.LayerNorm(spec.NumFeatures, eps: 1e-5);
        head = new SwinHead(spec.NumFeatures, spec.NumClasses);
        RegisterComponents();
        InitWeights();
    }

    /// <inheritdoc />
    public override ModelSpec Spec => _spec;

    /// <summary>The spec as its family record.</summary>
    public SwinSpec SwinSpec => _spec;

    /// <summary>The stages (<c>layers.S</c>).</summary>
    internal IReadOnlyList<SwinTransformerStage> Stages => layers.ToList();

    /// <inheritdoc />
    public override int NumFeatures => _spec.NumFeatures;

    /// <inheritdoc />
    public override int NumClasses => _spec.NumClasses;

    /// <inheritdoc />
    public override IReadOnlyList<string> ClassifierKeys =>
        head.Fc is null ? Array.Empty<string>() : new[] { "head.fc.weight", "head.fc.bias" };

    /// <summary>timm's <c>no_weight_decay()</c>: every relative position bias table.</summary>
    public override IReadOnlyCollection<string> NoWeightDecay { get; } = new[] { "relative_position_bias_table" };

    /// <summary>The map after the last stage and the final norm, channels last: [B, H/(p·2^(S−1)), W/(p·2^(S−1)), num_features].</summary>
    public override Tensor ForwardFeatures(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = patch_embed.call(x);
        foreach (var stage in layers) y = stage.call(y);
        return norm.call(y).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override Tensor ForwardHead(Tensor features, bool preLogits = false)
    {
        using var scope = NewDisposeScope();
        var y = _spec.GlobalPool == "avg" ? features.mean(new long[] { 1, 2 }) : features;
        if (training && _spec.DropRate > 0) y = nn.functional.dropout(y, _spec.DropRate, training: true);
        if (!preLogits) y = head.call(y);
        if (ReferenceEquals(y, features)) y = features.alias();
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Replaces <c>head.fc</c> with a new one for <paramref name="numClasses"/> classes (0: identity), with PyTorch's
    /// default Linear initialization, as timm's <c>reset_classifier</c>.
    /// </summary>
    public override void ResetClassifier(int numClasses)
    {
        if (numClasses < 0) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "The number of classes must be >= 0.");
        head.Reset(_spec.NumFeatures, numClasses);
        _spec = _spec with { NumClasses = numClasses };
    }

    // timm's init_weights_vit_timm: every Linear trunc_normal(std 0.02) with a zero bias, each bias table
    // trunc_normal(std 0.02); the patch convolution and the LayerNorms keep PyTorch's defaults.
    void InitWeights()
    {
        using var _ = no_grad();
        foreach (var module in modules())
        {
            if (module is Linear linear) Init.TruncNormalLinear(linear);
            else if (module is WindowAttention attention) Init.TruncNormal(attention.BiasTable, 0.0, 0.02, -2.0, 2.0);
        }
    }
}

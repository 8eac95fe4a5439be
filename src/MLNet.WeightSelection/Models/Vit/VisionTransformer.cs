using MLNet.WeightSelection.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.Vit;

/// <summary>
/// timm's <c>VisionTransformer</c> with timm's parameter names: <c>cls_token</c>, <c>pos_embed</c>,
/// <c>patch_embed.proj</c>, <c>blocks.N.{norm1, attn.qkv, attn.proj, ls1.gamma, norm2, mlp.fc1, mlp.fc2, ls2.gamma}</c>,
/// <c>norm</c> (token pooling) or <c>fc_norm</c> (average pooling), and <c>head</c>.
/// </summary>
public sealed class VisionTransformer : ImageClassifier
{
    readonly Parameter? cls_token;
    readonly Parameter pos_embed;
    readonly PatchEmbed patch_embed;
    readonly ModuleList<Block> blocks;
    readonly LayerNorm? norm;
    readonly LayerNorm? fc_norm;
    Linear? head;

    VisionTransformerSpec _spec;

    /// <summary>Builds the model from <paramref name="spec"/> with timm's initialization.</summary>
    public VisionTransformer(VisionTransformerSpec spec) : base(nameof(VisionTransformer))
    {
        spec.Validate();
        _spec = spec;
        Input = spec.Input;
        int d = spec.EmbedDim;
        patch_embed = new PatchEmbed(spec.ImageSize, spec.PatchSize, spec.InChans, d);
        cls_token = spec.ClassToken ? new Parameter(zeros(1, 1, d)) : null;
        pos_embed = new Parameter(zeros(1, (long)spec.GridSize * spec.GridSize + spec.NumPrefixTokens, d));
        var rates = Init.LinearDropPathRates(spec.DropPathRate, spec.Depth);
        blocks = new ModuleList<Block>(Enumerable.Range(0, spec.Depth).Select(i => new Block(spec, rates[i])).ToArray());
        norm = spec.UsesFcNorm ? null : nn.LayerNorm(d, eps: 1e-6);
        fc_norm = spec.UsesFcNorm ? nn.LayerNorm(d, eps: 1e-6) : null;
        head = spec.NumClasses > 0 ? nn.Linear(d, spec.NumClasses) : null;
        RegisterComponents();
        InitWeights();
    }

    /// <inheritdoc />
    public override ModelSpec Spec => _spec;

    /// <summary>The spec as its family record.</summary>
    public VisionTransformerSpec VitSpec => _spec;

    /// <summary>The transformer blocks (<c>blocks.N</c>).</summary>
    internal IReadOnlyList<Block> Blocks => blocks.ToList();

    /// <inheritdoc />
    public override int NumFeatures => _spec.EmbedDim;

    /// <inheritdoc />
    public override int NumClasses => _spec.NumClasses;

    /// <inheritdoc />
    public override IReadOnlyList<string> ClassifierKeys =>
        head is null ? Array.Empty<string>() : new[] { "head.weight", "head.bias" };

    /// <inheritdoc />
    public override IReadOnlyCollection<string> NoWeightDecay { get; } = new[] { "pos_embed", "cls_token", "dist_token", "reg_token" };

    /// <summary>Tokens after the blocks and (for token pooling) the final norm: [B, prefix + grid², embed_dim].</summary>
    public override Tensor ForwardFeatures(Tensor x)
    {
        using var scope = NewDisposeScope();
        var tokens = patch_embed.call(x);
        if (cls_token is not null)
            tokens = cat(new[] { cls_token.expand(tokens.shape[0], -1, -1), tokens }, 1);
        tokens = tokens.add(pos_embed);
        foreach (var block in blocks) tokens = block.call(tokens);
        if (norm is not null) tokens = norm.call(tokens);
        return tokens.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override Tensor ForwardHead(Tensor features, bool preLogits = false)
    {
        using var scope = NewDisposeScope();
        var x = Pool(features);
        if (fc_norm is not null) x = fc_norm.call(x);
        if (training && _spec.DropRate > 0) x = nn.functional.dropout(x, _spec.DropRate, training: true);
        if (!preLogits && head is not null) x = head.call(x);
        if (ReferenceEquals(x, features)) x = features.alias();
        return x.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override void ResetClassifier(int numClasses)
    {
        if (numClasses < 0) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "The number of classes must be >= 0.");
        var old = head;
        register_module("head", null!);
        head = numClasses > 0 ? nn.Linear(_spec.EmbedDim, numClasses) : null;
        if (head is not null)
        {
            Init.TruncNormalLinear(head);
            register_module("head", head);
        }
        old?.Dispose();
        _spec = _spec with { NumClasses = numClasses };
    }

    Tensor Pool(Tensor x)
    {
        if (_spec.GlobalPool == "token") return x.select(1, 0);
        if (_spec.GlobalPool == "") return x;
        int prefix = _spec.NumPrefixTokens;
        var patches = x.narrow(1, prefix, x.shape[1] - prefix);
        var dims = new long[] { 1 };
        return _spec.GlobalPool switch
        {
            "avg" => patches.mean(dims),
            "max" => patches.amax(dims),
            _ => patches.amax(dims).add(patches.mean(dims)).mul(0.5),
        };
    }

    void InitWeights()
    {
        using var _ = no_grad();
        Init.TruncNormal(pos_embed, 0.0, 0.02, -2.0, 2.0);
        if (cls_token is not null) nn.init.normal_(cls_token, 0.0, 1e-6);
        foreach (var module in modules())
            if (module is Linear linear) Init.TruncNormalLinear(linear);
    }
}

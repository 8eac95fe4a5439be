using System.Text.Json;
using MLNet.WeightSelection.Models.Json;

namespace MLNet.WeightSelection.Models.Vit;

/// <summary>
/// timm's <c>VisionTransformer</c> keyword arguments (defaults are timm's). JSON names: img_size, patch_size,
/// embed_dim, depth, num_heads, mlp_ratio, qkv_bias, class_token, global_pool, fc_norm, init_values, drop_rate,
/// drop_path_rate, num_classes, in_chans. The default input convention is timm's ViT one (Inception mean/std 0.5).
/// </summary>
public sealed record VisionTransformerSpec : ModelSpec
{
    /// <summary>The family name in JSON: "vit".</summary>
    public const string FamilyName = "vit";

    /// <summary>Creates a spec with timm's defaults (ViT-Base/16 at 224 px).</summary>
    public VisionTransformerSpec() => Input = InputConvention.Inception;

    /// <inheritdoc />
    public override string Family => FamilyName;

    /// <summary>Side of the square patches (<c>patch_size</c>).</summary>
    public int PatchSize { get; init; } = 16;

    /// <summary>Token width (<c>embed_dim</c>).</summary>
    public int EmbedDim { get; init; } = 768;

    /// <summary>Number of transformer blocks (<c>depth</c>).</summary>
    public int Depth { get; init; } = 12;

    /// <summary>Attention heads (<c>num_heads</c>); must divide <see cref="EmbedDim"/>.</summary>
    public int NumHeads { get; init; } = 12;

    /// <summary>MLP hidden width over embed width (<c>mlp_ratio</c>); the hidden width is <c>int(embed_dim * mlp_ratio)</c>.</summary>
    public double MlpRatio { get; init; } = 4.0;

    /// <summary>Bias on the fused qkv projection (<c>qkv_bias</c>).</summary>
    public bool QkvBias { get; init; } = true;

    /// <summary>Prepend a class token (<c>class_token</c>).</summary>
    public bool ClassToken { get; init; } = true;

    /// <summary>Pooling of the final tokens (<c>global_pool</c>): "token" (class token), "avg", "max", "avgmax" or "" (none).</summary>
    public string GlobalPool { get; init; } = "token";

    /// <summary>timm's <c>fc_norm</c>: norm after pooling instead of before; null means "when pooling averages" (timm's default).</summary>
    public bool? FcNorm { get; init; }

    /// <summary>Layer-scale init value (<c>init_values</c>); null or 0 disables layer scale (no <c>ls1</c>/<c>ls2</c>).</summary>
    public double? InitValues { get; init; }

    /// <summary>Dropout before the classifier (<c>drop_rate</c>), train mode only.</summary>
    public double DropRate { get; init; }

    /// <summary>Stochastic depth of the last block (<c>drop_path_rate</c>); block i gets <c>linspace(0, rate, depth)[i]</c>.</summary>
    public double DropPathRate { get; init; }

    /// <inheritdoc />
    public override ModelSpec WithDropPathRate(double rate) => this with { DropPathRate = rate };

    /// <summary>Patches per side: <c>img_size / patch_size</c>.</summary>
    public int GridSize => ImageSize / PatchSize;

    /// <summary>Class (prefix) tokens before the patch tokens: 1 with a class token, else 0.</summary>
    public int NumPrefixTokens => ClassToken ? 1 : 0;

    /// <summary>MLP hidden width: <c>int(embed_dim * mlp_ratio)</c>.</summary>
    public int MlpHiddenDim => (int)(EmbedDim * MlpRatio);

    /// <summary>True when the final norm sits after pooling (<c>fc_norm</c>) rather than before (<c>norm</c>).</summary>
    public bool UsesFcNorm => FcNorm ?? GlobalPool is "avg" or "avgmax" or "max";

    /// <summary>True when blocks have layer scale (<c>ls1.gamma</c>, <c>ls2.gamma</c>).</summary>
    public bool UsesLayerScale => InitValues is { } v && v != 0;

    /// <inheritdoc />
    public override ImageClassifier CreateModel() => new VisionTransformer(this);

    /// <inheritdoc />
    public override int ImageSizeMultiple => PatchSize;

    /// <inheritdoc />
    public override CheckpointFilter CreateCheckpointFilter() => new VitCheckpointFilter(this);

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        Require(PatchSize > 0, "patch_size", $"must be positive; got {PatchSize}");
        Require(GridSize > 0, "img_size", $"({ImageSize}) must be at least patch_size ({PatchSize})");
        Require(EmbedDim > 0, "embed_dim", $"must be positive; got {EmbedDim}");
        Require(Depth >= 0, "depth", $"must be >= 0; got {Depth}");
        Require(NumHeads > 0 && EmbedDim % NumHeads == 0, "num_heads", $"({NumHeads}) must be positive and divide embed_dim ({EmbedDim})");
        Require(MlpHiddenDim > 0, "mlp_ratio", $"must give a positive hidden width; got {MlpRatio}");
        Require(GlobalPool is "token" or "avg" or "max" or "avgmax" or "", "global_pool", $"must be \"token\", \"avg\", \"max\", \"avgmax\" or \"\"; got \"{GlobalPool}\"");
        Require(ClassToken || GlobalPool != "token", "global_pool", "\"token\" needs class_token = true");
        Require(DropRate is >= 0 and < 1, "drop_rate", $"must lie in [0, 1); got {DropRate}");
        Require(DropPathRate is >= 0 and < 1, "drop_path_rate", $"must lie in [0, 1); got {DropPathRate}");
    }

    /// <inheritdoc />
    protected override bool UsesImageSizeKwarg => true;

    /// <inheritdoc />
    protected override void WriteKwargs(Utf8JsonWriter writer)
    {
        writer.WriteNumber("img_size", ImageSize);
        writer.WriteNumber("patch_size", PatchSize);
        writer.WriteNumber("embed_dim", EmbedDim);
        writer.WriteNumber("depth", Depth);
        writer.WriteNumber("num_heads", NumHeads);
        writer.WriteNumber("mlp_ratio", MlpRatio);
        writer.WriteBoolean("qkv_bias", QkvBias);
        writer.WriteBoolean("class_token", ClassToken);
        writer.WriteString("global_pool", GlobalPool);
        writer.WriteNullableBoolean("fc_norm", FcNorm);
        writer.WriteNullableNumber("init_values", InitValues);
        writer.WriteNumber("drop_rate", DropRate);
        writer.WriteNumber("drop_path_rate", DropPathRate);
    }

    /// <summary>Reads the family's keyword arguments (the JSON reader of <see cref="ModelSpec.FromJson(string, string?)"/>).</summary>
    public static ModelSpec FromKwargs(KwargsReader k)
    {
        var d = new VisionTransformerSpec();
        return d with
        {
            ImageSize = k.Int("img_size", d.ImageSize),
            PatchSize = k.Int("patch_size", d.PatchSize),
            EmbedDim = k.Int("embed_dim", d.EmbedDim),
            Depth = k.Int("depth", d.Depth),
            NumHeads = k.Int("num_heads", d.NumHeads),
            MlpRatio = k.Double("mlp_ratio", d.MlpRatio),
            QkvBias = k.Bool("qkv_bias", d.QkvBias),
            ClassToken = k.Bool("class_token", d.ClassToken),
            GlobalPool = k.String("global_pool", d.GlobalPool, "token", "avg", "max", "avgmax", ""),
            FcNorm = k.NullableBool("fc_norm", d.FcNorm),
            InitValues = k.NullableDouble("init_values", d.InitValues),
            DropRate = k.Double("drop_rate", d.DropRate),
            DropPathRate = k.Double("drop_path_rate", d.DropPathRate),
        };
    }
}

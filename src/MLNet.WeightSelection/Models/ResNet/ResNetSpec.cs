using System.Text.Json;
using MLNet.WeightSelection.Models.Json;

namespace MLNet.WeightSelection.Models.ResNet;

/// <summary>Residual block type (timm's <c>block</c>: BasicBlock or Bottleneck).</summary>
public enum ResNetBlock
{
    /// <summary>Two 3×3 convolutions, expansion 1 (ResNet-18/34). JSON "basic".</summary>
    Basic,
    /// <summary>1×1, 3×3, 1×1 convolutions, expansion 4 (ResNet-26/50). JSON "bottleneck".</summary>
    Bottleneck,
}

/// <summary>
/// timm's <c>ResNet</c> keyword arguments. JSON names: block ("basic" | "bottleneck"), layers, channels, stem_width,
/// stem_type ("" | "deep" | "deep_tiered"), avg_down, drop_rate, drop_path_rate, zero_init_last, num_classes,
/// in_chans, and this project's <c>plain_stem_width</c>. Defaults are timm's; block and layers default to ResNet-18's
/// in C# but are required in JSON, as in timm's constructor.
/// </summary>
/// <remarks>
/// timm quirk kept on purpose: the plain 7×7 stem (<c>stem_type = ""</c>) always has 64 channels, whatever
/// <c>stem_width</c> says (timm applies stem_width only to deep stems), so timm's keyword arguments build exactly what
/// timm builds. <see cref="PlainStemWidth"/> is the explicit way to get a narrower plain stem (e.g. 32 for a
/// half-width ResNet-18 student); timm has no such argument, so checkpoints from such a model load only here.
/// </remarks>
public sealed record ResNetSpec : ModelSpec
{
    /// <summary>The family name in JSON: "resnet".</summary>
    public const string FamilyName = "resnet";

    /// <inheritdoc />
    public override string Family => FamilyName;

    /// <summary>Residual block type (<c>block</c>).</summary>
    public ResNetBlock Block { get; init; } = ResNetBlock.Basic;

    /// <summary>Blocks per stage (<c>layers</c>); stage S is <c>layer{S+1}</c>.</summary>
    public int[] Layers { get; init; } = { 2, 2, 2, 2 };

    /// <summary>Planes per stage (<c>channels</c>); a stage outputs planes × expansion channels.</summary>
    public int[] Channels { get; init; } = { 64, 128, 256, 512 };

    /// <summary>Width of deep stems (<c>stem_width</c>); ignored by the plain 7×7 stem (timm's behaviour).</summary>
    public int StemWidth { get; init; } = 64;

    /// <summary>Stem (<c>stem_type</c>): "" (one 7×7 conv), "deep" (three 3×3: w, w, 2w) or "deep_tiered" (3·(w/4), w, 2w).</summary>
    public string StemType { get; init; } = "";

    /// <summary>Average-pool then 1×1 conv in downsample shortcuts (<c>avg_down</c>, the "d"/"t" variants).</summary>
    public bool AvgDown { get; init; }

    /// <summary>
    /// Output channels of the plain 7×7 stem (<c>plain_stem_width</c>, not a timm argument). Null keeps timm's fixed 64.
    /// Only valid with the plain stem.
    /// </summary>
    public int? PlainStemWidth { get; init; }

    /// <summary>Dropout before the classifier (<c>drop_rate</c>), train mode only.</summary>
    public double DropRate { get; init; }

    /// <summary>Stochastic depth of the last block (<c>drop_path_rate</c>); block i of n gets rate · i / (n − 1).</summary>
    public double DropPathRate { get; init; }

    /// <inheritdoc />
    public override ModelSpec WithDropPathRate(double rate) => this with { DropPathRate = rate };

    /// <summary>Zero-initialize the last BatchNorm weight of each residual branch (<c>zero_init_last</c>, timm's default true).</summary>
    public bool ZeroInitLast { get; init; } = true;

    /// <summary>Channel expansion of the block: 1 for basic, 4 for bottleneck.</summary>
    public int Expansion => Block == ResNetBlock.Basic ? 1 : 4;

    /// <summary>True for the "deep" and "deep_tiered" stems.</summary>
    public bool DeepStem => StemType.Contains("deep", StringComparison.Ordinal);

    /// <summary>Channels out of the stem (timm's <c>inplanes</c>): 2 · stem_width for deep stems, else plain_stem_width or 64.</summary>
    public int StemChannels => DeepStem ? StemWidth * 2 : PlainStemWidth ?? 64;

    /// <summary>Width of the pooled features: last stage planes × expansion.</summary>
    public int NumFeatures => Channels[^1] * Expansion;

    /// <inheritdoc />
    public override ImageClassifier CreateModel() => new ResNet(this);

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        Require(Layers.Length > 0, "layers", "must name at least one stage");
        Require(Layers.Length == Channels.Length, "layers", $"has {Layers.Length} stages but channels has {Channels.Length}");
        Require(Layers.All(l => l >= 1), "layers", "must be >= 1 per stage");
        Require(Channels.All(c => c > 0), "channels", "must be positive");
        Require(StemType is "" or "deep" or "deep_tiered", "stem_type", $"must be \"\", \"deep\" or \"deep_tiered\"; got \"{StemType}\"");
        Require(StemWidth > 0, "stem_width", $"must be positive; got {StemWidth}");
        Require(PlainStemWidth is null || !DeepStem, "plain_stem_width", "applies only to the plain stem (stem_type \"\")");
        Require(PlainStemWidth is null or > 0, "plain_stem_width", $"must be positive; got {PlainStemWidth}");
        Require(DropRate is >= 0 and < 1, "drop_rate", $"must lie in [0, 1); got {DropRate}");
        Require(DropPathRate is >= 0 and < 1, "drop_path_rate", $"must lie in [0, 1); got {DropPathRate}");
    }

    /// <summary>Value equality, element by element on <see cref="Layers"/> and <see cref="Channels"/>.</summary>
    public bool Equals(ResNetSpec? other) =>
        other is not null && base.Equals(other) && Block == other.Block
        && Layers.AsSpan().SequenceEqual(other.Layers) && Channels.AsSpan().SequenceEqual(other.Channels)
        && StemWidth == other.StemWidth && StemType == other.StemType && AvgDown == other.AvgDown
        && PlainStemWidth == other.PlainStemWidth && DropRate.Equals(other.DropRate)
        && DropPathRate.Equals(other.DropPathRate) && ZeroInitLast == other.ZeroInitLast;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), Block, Layers.Sum(), Channels.Sum(), StemWidth, StemType, PlainStemWidth);

    /// <inheritdoc />
    protected override void WriteKwargs(Utf8JsonWriter writer)
    {
        writer.WriteString("block", Block == ResNetBlock.Basic ? "basic" : "bottleneck");
        writer.WriteIntArray("layers", Layers);
        writer.WriteIntArray("channels", Channels);
        writer.WriteNumber("stem_width", StemWidth);
        writer.WriteString("stem_type", StemType);
        writer.WriteBoolean("avg_down", AvgDown);
        if (PlainStemWidth is { } w) writer.WriteNumber("plain_stem_width", w);
        writer.WriteNumber("drop_rate", DropRate);
        writer.WriteNumber("drop_path_rate", DropPathRate);
        writer.WriteBoolean("zero_init_last", ZeroInitLast);
    }

    /// <summary>Reads the family's keyword arguments (the JSON reader of <see cref="ModelSpec.FromJson(string, string?)"/>).</summary>
    public static ModelSpec FromKwargs(KwargsReader k)
    {
        var d = new ResNetSpec();
        if (!k.Has("block")) throw new JsonException("resnet spec: required property 'block' is missing (\"basic\" or \"bottleneck\").", "$.block", null, null);
        var block = k.String("block", "", "basic", "bottleneck", "BasicBlock", "Bottleneck") is "basic" or "BasicBlock"
            ? ResNetBlock.Basic : ResNetBlock.Bottleneck;
        return d with
        {
            Block = block,
            Layers = k.IntArray("layers", null),
            Channels = k.IntArray("channels", d.Channels),
            StemWidth = k.Int("stem_width", d.StemWidth),
            StemType = k.String("stem_type", d.StemType, "", "deep", "deep_tiered"),
            AvgDown = k.Bool("avg_down", d.AvgDown),
            PlainStemWidth = k.NullableInt("plain_stem_width", d.PlainStemWidth),
            DropRate = k.Double("drop_rate", d.DropRate),
            DropPathRate = k.Double("drop_path_rate", d.DropPathRate),
            ZeroInitLast = k.Bool("zero_init_last", d.ZeroInitLast),
        };
    }
}

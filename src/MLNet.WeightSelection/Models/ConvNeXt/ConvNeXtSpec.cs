using System.Text.Json;
using MLNet.WeightSelection.Models.Json;

namespace MLNet.WeightSelection.Models.ConvNeXt;

/// <summary>
/// timm's <c>ConvNeXt</c> keyword arguments (defaults are timm's: ConvNeXt-T). JSON names: depths, dims,
/// ls_init_value, conv_mlp, drop_rate, drop_path_rate, num_classes, in_chans. The default input convention is
/// ImageNet mean/std, bicubic.
/// </summary>
public sealed record ConvNeXtSpec : ModelSpec
{
    /// <summary>The family name in JSON: "convnext".</summary>
    public const string FamilyName = "convnext";

    /// <inheritdoc />
    public override string Family => FamilyName;

    /// <summary>Blocks per stage (<c>depths</c>), four stages.</summary>
    public int[] Depths { get; init; } = { 3, 3, 9, 3 };

    /// <summary>Channels per stage (<c>dims</c>), four stages.</summary>
    public int[] Dims { get; init; } = { 96, 192, 384, 768 };

    /// <summary>Layer-scale init value (<c>ls_init_value</c>, key <c>stages.S.blocks.B.gamma</c>); null disables layer scale.</summary>
    public double? LsInitValue { get; init; } = 1e-6;

    /// <summary>
    /// <c>conv_mlp</c>: true gives 1×1-convolution MLPs (weights [out, in, 1, 1]) with a channels-first LayerNorm2d (timm's
    /// atto–nano); false gives Linear MLPs (weights [out, in]) on channels-last maps (tiny and up).
    /// </summary>
    public bool ConvMlp { get; init; }

    /// <summary>Dropout before the classifier (<c>drop_rate</c>), train mode only.</summary>
    public double DropRate { get; init; }

    /// <summary>Stochastic depth of the last block (<c>drop_path_rate</c>), increasing linearly over all blocks.</summary>
    public double DropPathRate { get; init; }

    /// <inheritdoc />
    public override ModelSpec WithDropPathRate(double rate) => this with { DropPathRate = rate };

    /// <summary>Width of the pooled features: the last stage's channels.</summary>
    public int NumFeatures => Dims[^1];

    /// <inheritdoc />
    public override ImageClassifier CreateModel() => new ConvNeXt(this);

    /// <inheritdoc />
    public override CheckpointFilter CreateCheckpointFilter() => ConvNeXtCheckpointFilter.Instance;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        Require(Depths.Length == 4, "depths", $"must have 4 stages; got {Depths.Length}");
        Require(Dims.Length == 4, "dims", $"must have 4 stages; got {Dims.Length}");
        Require(Depths.All(d => d >= 0), "depths", "must be >= 0");
        Require(Dims.All(d => d > 0), "dims", "must be positive");
        Require(DropRate is >= 0 and < 1, "drop_rate", $"must lie in [0, 1); got {DropRate}");
        Require(DropPathRate is >= 0 and < 1, "drop_path_rate", $"must lie in [0, 1); got {DropPathRate}");
    }

    /// <summary>Value equality, element by element on <see cref="Depths"/> and <see cref="Dims"/>.</summary>
    public bool Equals(ConvNeXtSpec? other) =>
        other is not null && base.Equals(other) && Depths.AsSpan().SequenceEqual(other.Depths) && Dims.AsSpan().SequenceEqual(other.Dims)
        && LsInitValue == other.LsInitValue && ConvMlp == other.ConvMlp && DropRate.Equals(other.DropRate) && DropPathRate.Equals(other.DropPathRate);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), Depths.Sum(), Dims.Sum(), LsInitValue, ConvMlp);

    /// <inheritdoc />
    protected override void WriteKwargs(Utf8JsonWriter writer)
    {
        writer.WriteIntArray("depths", Depths);
        writer.WriteIntArray("dims", Dims);
        writer.WriteNullableNumber("ls_init_value", LsInitValue);
        writer.WriteBoolean("conv_mlp", ConvMlp);
        writer.WriteNumber("drop_rate", DropRate);
        writer.WriteNumber("drop_path_rate", DropPathRate);
    }

    /// <summary>Reads the family's keyword arguments (the JSON reader of <see cref="ModelSpec.FromJson(string, string?)"/>).</summary>
    public static ModelSpec FromKwargs(KwargsReader k)
    {
        var d = new ConvNeXtSpec();
        return d with
        {
            Depths = k.IntArray("depths", d.Depths),
            Dims = k.IntArray("dims", d.Dims),
            LsInitValue = k.NullableDouble("ls_init_value", d.LsInitValue),
            ConvMlp = k.Bool("conv_mlp", d.ConvMlp),
            DropRate = k.Double("drop_rate", d.DropRate),
            DropPathRate = k.Double("drop_path_rate", d.DropPathRate),
        };
    }
}

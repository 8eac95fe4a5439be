using System.Text.Json;
using MLNet.WeightSelection.Models.Json;

namespace MLNet.WeightSelection.Models.EfficientNet;

/// <summary>
/// timm's EfficientNet as <c>_gen_efficientnet</c> builds it (SiLU activation, BatchNorm eps 1e-5 / momentum 0.1,
/// symmetric padding <c>((stride − 1) + (k − 1)) / 2</c>, squeeze-excitation sized from the block's input channels),
/// in timm's keyword arguments. JSON names: arch_def (timm's block strings, a list per stage), channel_multiplier,
/// depth_multiplier, channel_divisor, stem_size, fix_stem, num_features, drop_rate, drop_path_rate, num_classes,
/// in_chans. Defaults are EfficientNet-B0's.
/// </summary>
/// <remarks>
/// As in timm's <c>EfficientNet</c> class, <see cref="StemSize"/> is scaled by the channel multiplier (unless
/// <see cref="FixStem"/>) and <see cref="NumFeatures"/> is taken as it is: the presets give it already scaled
/// (<c>round_channels(1280 · channel_multiplier)</c>), as timm's <c>_gen_efficientnet</c> does. Stage depths are
/// <c>ceil(repeats · depth_multiplier)</c>, stage widths <c>round_channels(c · channel_multiplier, channel_divisor)</c>.
/// </remarks>
public sealed record EfficientNetSpec : ModelSpec
{
    /// <summary>The family name in JSON: "efficientnet".</summary>
    public const string FamilyName = "efficientnet";

    /// <summary>EfficientNet-B0's seven stages (timm's <c>_gen_efficientnet</c> arch_def).</summary>
    public static IReadOnlyList<IReadOnlyList<string>> B0ArchDef { get; } = new[]
    {
        new[] { "ds_r1_k3_s1_e1_c16_se0.25" },
        new[] { "ir_r2_k3_s2_e6_c24_se0.25" },
        new[] { "ir_r2_k5_s2_e6_c40_se0.25" },
        new[] { "ir_r3_k3_s2_e6_c80_se0.25" },
        new[] { "ir_r3_k5_s1_e6_c112_se0.25" },
        new[] { "ir_r4_k5_s2_e6_c192_se0.25" },
        new[] { "ir_r1_k3_s1_e6_c320_se0.25" },
    };

    /// <inheritdoc />
    public override string Family => FamilyName;

    /// <summary>
    /// The block strings of each stage (<c>arch_def</c>, timm's list of lists), before depth and channel scaling;
    /// see <see cref="EfficientNetBlockDef"/> for the form.
    /// </summary>
    public string[][] ArchDef { get; init; } = B0ArchDef.Select(s => s.ToArray()).ToArray();

    /// <summary>Width multiplier of every stage, the stem and the head (<c>channel_multiplier</c>).</summary>
    public double ChannelMultiplier { get; init; } = 1.0;

    /// <summary>Depth multiplier of every stage's repeats, rounded up (<c>depth_multiplier</c>).</summary>
    public double DepthMultiplier { get; init; } = 1.0;

    /// <summary>Scaled widths are rounded to multiples of this (<c>channel_divisor</c>).</summary>
    public int ChannelDivisor { get; init; } = 8;

    /// <summary>Stem channels before the channel multiplier (<c>stem_size</c>).</summary>
    public int StemSize { get; init; } = 32;

    /// <summary>Keep <see cref="StemSize"/> unscaled (<c>fix_stem</c>).</summary>
    public bool FixStem { get; init; }

    /// <summary>Channels of the 1×1 head convolution, the pooled features' width (<c>num_features</c>, taken as it is).</summary>
    public int NumFeatures { get; init; } = 1280;

    /// <summary>Dropout before the classifier (<c>drop_rate</c>), train mode only.</summary>
    public double DropRate { get; init; }

    /// <summary>Stochastic depth (<c>drop_path_rate</c>): block i of n gets rate · i / n, on residual blocks only.</summary>
    public double DropPathRate { get; init; }

    /// <inheritdoc />
    public override ModelSpec WithDropPathRate(double rate) => this with { DropPathRate = rate };

    /// <summary>timm's <c>round_channels</c>: <paramref name="channels"/> · channel_multiplier rounded to the divisor.</summary>
    public int RoundChannels(int channels) => MakeDivisible(channels * ChannelMultiplier, ChannelDivisor);

    /// <summary>Channels out of the stem: <see cref="StemSize"/>, scaled unless <see cref="FixStem"/>.</summary>
    public int StemChannels => FixStem ? StemSize : RoundChannels(StemSize);

    /// <summary>Blocks per stage after depth scaling.</summary>
    public int[] StageDepths => Blocks().Select(s => s.Count).ToArray();

    /// <summary>Output channels per stage after channel scaling (the stage's residual width).</summary>
    public int[] StageChannels => Blocks().Select(s => s[^1].OutChannels).ToArray();

    /// <summary>
    /// Every block as timm's <c>EfficientNetBuilder</c> makes it: depth scaling per stage (timm's
    /// <c>_scale_stage_depth</c>, ceil), stride only on a stage's first block, widths through
    /// <see cref="RoundChannels"/>, the expanded width through <c>make_divisible(in · e, 8)</c>, SE width
    /// <c>round(mid · se / e)</c> (= the input's channels · se), drop-path rate rate · i / n.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<EfficientNetBlockConfig>> Blocks()
    {
        var stages = ArchDef.Select(ScaleStage).ToList();
        int total = stages.Sum(s => s.Count), index = 0, inChannels = StemChannels;
        var result = new List<IReadOnlyList<EfficientNetBlockConfig>>();
        foreach (var stage in stages)
        {
            var blocks = new List<EfficientNetBlockConfig>();
            for (int b = 0; b < stage.Count; b++, index++)
            {
                var def = stage[b];
                int stride = b == 0 ? def.Stride : 1, outChannels = RoundChannels(def.OutChannels);
                bool inverted = def.Type == EfficientNetBlockType.InvertedResidual;
                int mid = inverted ? MakeDivisible(inChannels * def.ExpRatio, 8) : inChannels;
                // timm divides the ratio by the expansion, so SE is sized from the block's input, not its mid width.
                double seRatio = def.SeRatio / (inverted ? def.ExpRatio : 1.0);
                int se = def.SeRatio > 0 ? (int)Math.Round(mid * seRatio, MidpointRounding.ToEven) : 0;
                bool skip = stride == 1 && inChannels == outChannels && !def.NoSkip;
                blocks.Add(new EfficientNetBlockConfig(def.Type, inChannels, outChannels, mid, def.KernelSize, stride, se, skip,
                    DropPathRate * index / total));
                inChannels = outChannels;
            }
            result.Add(blocks);
        }
        return result;
    }

    // timm's _scale_stage_depth with depth_trunc "ceil": the stage's total repeats scaled and rounded up, then shared
    // out over its block strings from the last one back.
    List<EfficientNetBlockDef> ScaleStage(string[] strings)
    {
        var defs = strings.Select(EfficientNetBlockDef.Parse).ToList();
        int repeats = defs.Sum(d => d.Repeats);
        int scaled = (int)Math.Ceiling(repeats * DepthMultiplier);
        var counts = new int[defs.Count];
        for (int i = defs.Count - 1; i >= 0; i--)
        {
            int r = defs[i].Repeats;
            int rs = Math.Max(1, (int)Math.Round((double)r / repeats * scaled, MidpointRounding.ToEven));
            counts[i] = rs;
            repeats -= r;
            scaled -= rs;
        }
        return defs.SelectMany((d, i) => Enumerable.Repeat(d, counts[i])).ToList();
    }

    // timm's make_divisible: the nearest multiple of the divisor, at least the divisor, and not below 90% of v.
    static int MakeDivisible(double v, int divisor)
    {
        int rounded = Math.Max(divisor, (int)(v + divisor / 2.0) / divisor * divisor);
        return rounded < 0.9 * v ? rounded + divisor : rounded;
    }

    /// <inheritdoc />
    public override ImageClassifier CreateModel() => new EfficientNet(this);

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        Require(ArchDef.Length > 0, "arch_def", "must name at least one stage");
        for (int s = 0; s < ArchDef.Length; s++)
        {
            Require(ArchDef[s].Length > 0, $"arch_def[{s}]", "must hold at least one block string");
            foreach (var text in ArchDef[s])
            {
                try { EfficientNetBlockDef.Parse(text); }
                catch (ArgumentException e) { throw new ArgumentException($"{Family} spec: arch_def[{s}]: {e.Message}", e); }
            }
        }
        Require(ChannelMultiplier > 0 && double.IsFinite(ChannelMultiplier), "channel_multiplier", $"must be positive; got {ChannelMultiplier}");
        Require(DepthMultiplier > 0 && double.IsFinite(DepthMultiplier), "depth_multiplier", $"must be positive; got {DepthMultiplier}");
        Require(ChannelDivisor > 0, "channel_divisor", $"must be positive; got {ChannelDivisor}");
        Require(StemSize > 0, "stem_size", $"must be positive; got {StemSize}");
        Require(NumFeatures > 0, "num_features", $"must be positive; got {NumFeatures}");
        Require(DropRate is >= 0 and < 1, "drop_rate", $"must lie in [0, 1); got {DropRate}");
        Require(DropPathRate is >= 0 and < 1, "drop_path_rate", $"must lie in [0, 1); got {DropPathRate}");
        // timm turns strides beyond an output stride of 32 into dilation, which this family does not build.
        int reduction = 2 * ArchDef.Select(stage => EfficientNetBlockDef.Parse(stage[0]).Stride).Aggregate(1, (a, b) => a * b);
        Require(reduction <= 32, "arch_def", $"reduces the image {reduction}-fold; at most 32 (the stem's 2 and four stride-2 stages) is supported");
    }

    /// <summary>Value equality, element by element on <see cref="ArchDef"/>.</summary>
    public bool Equals(EfficientNetSpec? other) =>
        other is not null && base.Equals(other) && ArchDef.Length == other.ArchDef.Length
        && ArchDef.Zip(other.ArchDef).All(p => p.First.AsSpan().SequenceEqual(p.Second))
        && ChannelMultiplier.Equals(other.ChannelMultiplier) && DepthMultiplier.Equals(other.DepthMultiplier)
        && ChannelDivisor == other.ChannelDivisor && StemSize == other.StemSize && FixStem == other.FixStem
        && NumFeatures == other.NumFeatures && DropRate.Equals(other.DropRate) && DropPathRate.Equals(other.DropPathRate);

    /// <inheritdoc />
    public override int GetHashCode() =>
        HashCode.Combine(base.GetHashCode(), ArchDef.Length, ChannelMultiplier, DepthMultiplier, StemSize, NumFeatures);

    /// <inheritdoc />
    protected override void WriteKwargs(Utf8JsonWriter writer)
    {
        writer.WriteStartArray("arch_def");
        foreach (var stage in ArchDef)
        {
            writer.WriteStartArray();
            foreach (var block in stage) writer.WriteStringValue(block);
            writer.WriteEndArray();
        }
        writer.WriteEndArray();
        writer.WriteNumber("channel_multiplier", ChannelMultiplier);
        writer.WriteNumber("depth_multiplier", DepthMultiplier);
        writer.WriteNumber("channel_divisor", ChannelDivisor);
        writer.WriteNumber("stem_size", StemSize);
        writer.WriteBoolean("fix_stem", FixStem);
        writer.WriteNumber("num_features", NumFeatures);
        writer.WriteNumber("drop_rate", DropRate);
        writer.WriteNumber("drop_path_rate", DropPathRate);
    }

    /// <summary>Reads the family's keyword arguments (the JSON reader of <see cref="ModelSpec.FromJson(string, string?)"/>).</summary>
    public static ModelSpec FromKwargs(KwargsReader k)
    {
        var d = new EfficientNetSpec();
        return d with
        {
            ArchDef = k.StringArrays("arch_def", d.ArchDef),
            ChannelMultiplier = k.Double("channel_multiplier", d.ChannelMultiplier),
            DepthMultiplier = k.Double("depth_multiplier", d.DepthMultiplier),
            ChannelDivisor = k.Int("channel_divisor", d.ChannelDivisor),
            StemSize = k.Int("stem_size", d.StemSize),
            FixStem = k.Bool("fix_stem", d.FixStem),
            NumFeatures = k.Int("num_features", d.NumFeatures),
            DropRate = k.Double("drop_rate", d.DropRate),
            DropPathRate = k.Double("drop_path_rate", d.DropPathRate),
        };
    }
}

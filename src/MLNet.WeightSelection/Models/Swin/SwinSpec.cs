using System.Text.Json;
using MLNet.WeightSelection.Models.Json;

namespace MLNet.WeightSelection.Models.Swin;

/// <summary>
/// timm's <c>SwinTransformer</c> keyword arguments (defaults are timm's: Swin-T at 224 px). JSON names: img_size,
/// patch_size, embed_dim, depths, num_heads, head_dim, window_size, mlp_ratio, qkv_bias, drop_rate, drop_path_rate,
/// global_pool, num_classes, in_chans. timm's current class has no absolute position embedding (<c>ape</c>), and so
/// has none here. Stage i has width <c>embed_dim · 2^i</c>; stages 1… start with a patch merging.
/// </summary>
/// <remarks>
/// As in timm with <c>strict_img_size</c> (its default), the model runs at its own image size: each block's window
/// is clamped to its stage's resolution (no shift then), and the shifted-window mask is made for that resolution.
/// The patch grid must halve evenly at every patch merging (timm would pad it; this family refuses such sizes).
/// </remarks>
public sealed record SwinSpec : ModelSpec
{
    /// <summary>The family name in JSON: "swin".</summary>
    public const string FamilyName = "swin";

    /// <inheritdoc />
    public override string Family => FamilyName;

    /// <summary>Side of the square patches (<c>patch_size</c>).</summary>
    public int PatchSize { get; init; } = 4;

    /// <summary>Width of the first stage (<c>embed_dim</c>); stage i has <c>embed_dim · 2^i</c>.</summary>
    public int EmbedDim { get; init; } = 96;

    /// <summary>Blocks per stage (<c>depths</c>).</summary>
    public int[] Depths { get; init; } = { 2, 2, 6, 2 };

    /// <summary>Attention heads per stage (<c>num_heads</c>).</summary>
    public int[] NumHeads { get; init; } = { 3, 6, 12, 24 };

    /// <summary>Channels per head (<c>head_dim</c>); null means the stage width over its heads (timm's default).</summary>
    public int? HeadDim { get; init; }

    /// <summary>Side of the square attention windows (<c>window_size</c>), before clamping to a stage's resolution.</summary>
    public int WindowSize { get; init; } = 7;

    /// <summary>MLP hidden width over the stage width (<c>mlp_ratio</c>); the hidden width is <c>int(dim · mlp_ratio)</c>.</summary>
    public double MlpRatio { get; init; } = 4.0;

    /// <summary>Bias on the fused qkv projection (<c>qkv_bias</c>).</summary>
    public bool QkvBias { get; init; } = true;

    /// <summary>Dropout before the classifier (<c>drop_rate</c>), train mode only.</summary>
    public double DropRate { get; init; }

    /// <summary>
    /// Stochastic depth of the last block (<c>drop_path_rate</c>, timm's default 0.1): block k of all n blocks gets
    /// <c>linspace(0, rate, n)[k]</c>.
    /// </summary>
    public double DropPathRate { get; init; } = 0.1;

    /// <summary>Pooling of the final map (<c>global_pool</c>): "avg" or "" (none: the head classifies every position).</summary>
    public string GlobalPool { get; init; } = "avg";

    /// <inheritdoc />
    public override ModelSpec WithDropPathRate(double rate) => this with { DropPathRate = rate };

    /// <summary>Number of stages.</summary>
    public int NumStages => Depths.Length;

    /// <summary>Width of stage <paramref name="stage"/>: <c>embed_dim · 2^stage</c>.</summary>
    public int StageDim(int stage) => EmbedDim << stage;

    /// <summary>The final norm's and the classifier's width (timm's <c>num_features</c>): the last stage's width.</summary>
    public int NumFeatures => StageDim(NumStages - 1);

    /// <summary>Patches per side: <c>img_size / patch_size</c>.</summary>
    public int GridSize => ImageSize / PatchSize;

    /// <summary>Tokens per side in stage <paramref name="stage"/>: the patch grid halved once per merging.</summary>
    public int StageResolution(int stage) => GridSize >> stage;

    /// <summary>Attention inner width of stage <paramref name="stage"/>: heads · head_dim.</summary>
    public int AttentionDim(int stage) => NumHeads[stage] * (HeadDim ?? StageDim(stage) / NumHeads[stage]);

    /// <summary>MLP hidden width of stage <paramref name="stage"/>: <c>int(dim · mlp_ratio)</c>.</summary>
    public int MlpHiddenDim(int stage) => (int)(StageDim(stage) * MlpRatio);

    /// <summary>
    /// The window of stage <paramref name="stage"/>'s blocks, as timm's <c>_calc_window_shift</c> sets it: the stage's
    /// resolution when that is not larger than <see cref="WindowSize"/> (and then no shift), else the window size.
    /// </summary>
    public int StageWindow(int stage) => Math.Min(WindowSize, StageResolution(stage));

    /// <summary>The shift of odd blocks in stage <paramref name="stage"/>: half the window, 0 when one window covers the stage.</summary>
    public int StageShift(int stage) => StageResolution(stage) <= WindowSize ? 0 : WindowSize / 2;

    /// <summary>Rows of a block's relative position bias table in stage <paramref name="stage"/>: <c>(2w − 1)²</c>.</summary>
    public int BiasTableRows(int stage) => (2 * StageWindow(stage) - 1) * (2 * StageWindow(stage) - 1);

    /// <inheritdoc />
    public override ImageClassifier CreateModel() => new SwinTransformer(this);

    /// <summary>The patch size times the halvings of the patch mergings: every multiple of it builds.</summary>
    public override int ImageSizeMultiple => PatchSize << Math.Max(0, NumStages - 1);

    /// <inheritdoc />
    public override CheckpointFilter CreateCheckpointFilter() => new SwinCheckpointFilter(this);

    /// <inheritdoc />
    protected override bool UsesImageSizeKwarg => true;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        Require(PatchSize > 0, "patch_size", $"must be positive; got {PatchSize}");
        Require(EmbedDim > 0, "embed_dim", $"must be positive; got {EmbedDim}");
        Require(Depths.Length > 0, "depths", "must name at least one stage");
        Require(Depths.All(d => d > 0), "depths", $"must all be positive; got ({string.Join(", ", Depths)})");
        Require(NumHeads.Length == Depths.Length, "num_heads",
            $"must give one head count per stage ({Depths.Length}); got {NumHeads.Length}");
        Require(NumHeads.All(h => h > 0), "num_heads", $"must all be positive; got ({string.Join(", ", NumHeads)})");
        Require(HeadDim is null or > 0, "head_dim", $"must be positive or null; got {HeadDim}");
        if (HeadDim is null)
            for (int s = 0; s < NumStages; s++)
                Require(StageDim(s) % NumHeads[s] == 0, $"num_heads[{s}]",
                    $"({NumHeads[s]}) must divide the stage width {StageDim(s)} (embed_dim · 2^{s})");
        Require(WindowSize > 0, "window_size", $"must be positive; got {WindowSize}");
        Require(MlpRatio > 0 && double.IsFinite(MlpRatio), "mlp_ratio", $"must be positive; got {MlpRatio}");
        Require(GridSize > 0 && ImageSize % PatchSize == 0, "img_size", $"({ImageSize}) must be a multiple of patch_size ({PatchSize})");
        Require(GridSize % (1 << (NumStages - 1)) == 0, "img_size",
            $"({ImageSize}) must give a patch grid ({GridSize}) that halves evenly at each of the {NumStages - 1} patch mergings: a multiple of {ImageSizeMultiple}");
        Require(DropRate is >= 0 and < 1, "drop_rate", $"must lie in [0, 1); got {DropRate}");
        Require(DropPathRate is >= 0 and < 1, "drop_path_rate", $"must lie in [0, 1); got {DropPathRate}");
        Require(GlobalPool is "avg" or "", "global_pool", $"must be \"avg\" or \"\"; got \"{GlobalPool}\"");
    }

    /// <summary>Value equality, element by element on <see cref="Depths"/> and <see cref="NumHeads"/>.</summary>
    public bool Equals(SwinSpec? other) =>
        other is not null && base.Equals(other) && PatchSize == other.PatchSize && EmbedDim == other.EmbedDim
        && Depths.AsSpan().SequenceEqual(other.Depths) && NumHeads.AsSpan().SequenceEqual(other.NumHeads)
        && HeadDim == other.HeadDim && WindowSize == other.WindowSize && MlpRatio.Equals(other.MlpRatio)
        && QkvBias == other.QkvBias && DropRate.Equals(other.DropRate) && DropPathRate.Equals(other.DropPathRate)
        && GlobalPool == other.GlobalPool;

    /// <inheritdoc />
    public override int GetHashCode() =>
        HashCode.Combine(base.GetHashCode(), PatchSize, EmbedDim, Depths.Length, Depths.Sum(), WindowSize, MlpRatio, GlobalPool);

    /// <inheritdoc />
    protected override void WriteKwargs(Utf8JsonWriter writer)
    {
        writer.WriteNumber("img_size", ImageSize);
        writer.WriteNumber("patch_size", PatchSize);
        writer.WriteNumber("embed_dim", EmbedDim);
        WriteInts(writer, "depths", Depths);
        WriteInts(writer, "num_heads", NumHeads);
        if (HeadDim is { } headDim) writer.WriteNumber("head_dim", headDim);
        else writer.WriteNull("head_dim");
        writer.WriteNumber("window_size", WindowSize);
        writer.WriteNumber("mlp_ratio", MlpRatio);
        writer.WriteBoolean("qkv_bias", QkvBias);
        writer.WriteNumber("drop_rate", DropRate);
        writer.WriteNumber("drop_path_rate", DropPathRate);
        writer.WriteString("global_pool", GlobalPool);
    }

    static void WriteInts(Utf8JsonWriter writer, string name, int[] values)
    {
        writer.WriteStartArray(name);
        foreach (var v in values) writer.WriteNumberValue(v);
        writer.WriteEndArray();
    }

    /// <summary>Reads the family's keyword arguments (the JSON reader of <see cref="ModelSpec.FromJson(string, string?)"/>).</summary>
    public static ModelSpec FromKwargs(KwargsReader k)
    {
        var d = new SwinSpec();
        return d with
        {
            ImageSize = k.Int("img_size", d.ImageSize),
            PatchSize = k.Int("patch_size", d.PatchSize),
            EmbedDim = k.Int("embed_dim", d.EmbedDim),
            Depths = k.IntArray("depths", d.Depths),
            NumHeads = k.IntArray("num_heads", d.NumHeads),
            HeadDim = k.NullableInt("head_dim", d.HeadDim),
            WindowSize = k.Int("window_size", d.WindowSize),
            MlpRatio = k.Double("mlp_ratio", d.MlpRatio),
            QkvBias = k.Bool("qkv_bias", d.QkvBias),
            DropRate = k.Double("drop_rate", d.DropRate),
            DropPathRate = k.Double("drop_path_rate", d.DropPathRate),
            GlobalPool = k.String("global_pool", d.GlobalPool, "avg", ""),
        };
    }
}

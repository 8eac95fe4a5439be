using MLNet.WeightSelection.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.Swin;

/// <summary>
/// timm's <c>PatchEmbed</c> as Swin uses it: a patch_size-strided convolution <c>proj</c>, channels last, then
/// LayerNorm <c>norm</c> (eps 1e-5): [B, C, H, W] → [B, H/p, W/p, embed_dim].
/// </summary>
internal sealed class SwinPatchEmbed : nn.Module<Tensor, Tensor>
{
    readonly Conv2d proj;
    readonly LayerNorm norm;
    readonly int _imageSize;

    public SwinPatchEmbed(SwinSpec spec) : base("PatchEmbed")
    {
        _imageSize = spec.ImageSize;
        proj = nn.Conv2d(spec.InChans, spec.EmbedDim, spec.PatchSize, stride: spec.PatchSize, bias: true);
        norm = nn.LayerNorm(spec.EmbedDim, eps: 1e-5);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        // timm's strict_img_size: the shift masks are made for this size.
        if (x.dim() != 4 || x.shape[2] != _imageSize || x.shape[3] != _imageSize)
            throw new ArgumentException(
                $"This Swin Transformer takes [N, C, {_imageSize}, {_imageSize}] images (img_size {_imageSize}); got [{string.Join(", ", x.shape)}]. " +
                "Build the model at this image size.");
        using var scope = NewDisposeScope();
        return norm.call(proj.call(x).permute(0, 2, 3, 1)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// timm's <c>WindowAttention</c>: fused <c>qkv</c> (laid out [q; k; v], heads inside each), scores
/// q·kᵀ·head_dim^-0.5 plus the relative position bias (<c>relative_position_bias_table</c> [(2w−1)², heads], gathered
/// through the fixed relative position index) plus the shift mask, softmax, then <c>proj</c>.
/// </summary>
internal sealed class WindowAttention : nn.Module<Tensor, Tensor?, Tensor>
{
    readonly Parameter relative_position_bias_table;
    readonly Linear qkv;
    readonly Linear proj;
    readonly DeviceConstant _index;
    readonly int _heads;
    readonly int _headDim;
    readonly int _area;
    readonly double _scale;

    public WindowAttention(int dim, int attnDim, int heads, int window, bool qkvBias) : base(nameof(WindowAttention))
    {
        _heads = heads;
        _headDim = attnDim / heads;
        _area = window * window;
        _scale = Math.Pow(_headDim, -0.5);
        relative_position_bias_table = new Parameter(zeros((2L * window - 1) * (2L * window - 1), heads));
        var index = SwinWindows.RelativePositionIndex(window);
        _index = new DeviceConstant(() => tensor(index, ScalarType.Int64));
        qkv = nn.Linear(dim, attnDim * 3, hasBias: qkvBias);
        proj = nn.Linear(attnDim, dim);
        RegisterComponents();
    }

    /// <summary>The table, for timm's initialization (trunc_normal std 0.02).</summary>
    public Parameter BiasTable => relative_position_bias_table;

    /// <summary>The bias of every head for every token pair: [1, heads, w², w²].</summary>
    public Tensor RelativePositionBias()
    {
        var rows = relative_position_bias_table.index_select(0, _index.On(relative_position_bias_table.device));
        return rows.view(_area, _area, _heads).permute(2, 0, 1).unsqueeze(0);
    }

    /// <param name="x">Windows: [B·windows, w², dim].</param>
    /// <param name="mask">The shift mask [windows, w², w²], or null.</param>
    public override Tensor forward(Tensor x, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], n = x.shape[1];
        var parts = qkv.call(x).reshape(b, n, 3, _heads, _headDim).permute(2, 0, 3, 1, 4).unbind(0);
        var attn = parts[0].mul(_scale).matmul(parts[1].transpose(-2, -1)).add(RelativePositionBias());
        if (mask is not null)
        {
            long windows = mask.shape[0];
            attn = attn.view(-1, windows, _heads, n, n).add(mask.unsqueeze(1).unsqueeze(0)).view(-1, _heads, n, n);
        }
        var y = attn.softmax(-1).matmul(parts[2]).transpose(1, 2).reshape(b, n, -1);
        return proj.call(y).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// timm's <c>SwinTransformerBlock</c> on a [B, H, W, C] map: x + drop_path(window attention of norm1(x)), windows
/// shifted by (−shift, −shift) before and rolled back after, the map padded to whole windows; then
/// x + drop_path(mlp(norm2(x))). LayerNorm eps 1e-5.
/// </summary>
internal sealed class SwinTransformerBlock : nn.Module<Tensor, Tensor>
{
    readonly LayerNorm norm1;
    readonly WindowAttention attn;
    readonly LayerNorm norm2;
    readonly Mlp mlp;
    readonly DeviceConstant? _mask;
    readonly int _window;
    readonly int _shift;

    public SwinTransformerBlock(SwinSpec spec, int stage, int index, double dropPath) : base(nameof(SwinTransformerBlock))
    {
        int dim = spec.StageDim(stage), resolution = spec.StageResolution(stage);
        _window = spec.StageWindow(stage);
        _shift = index % 2 == 1 ? spec.StageShift(stage) : 0;
        DropPathRate = dropPath;
        norm1 = nn.LayerNorm(dim, eps: 1e-5);
        attn = new WindowAttention(dim, spec.AttentionDim(stage), spec.NumHeads[stage], _window, spec.QkvBias);
        norm2 = nn.LayerNorm(dim, eps: 1e-5);
        mlp = new Mlp(dim, spec.MlpHiddenDim(stage), drop: 0);
        if (SwinWindows.AttentionMask(resolution, _window, _shift) is { } mask)
        {
            long windows = mask.Length / ((long)_window * _window * _window * _window);
            _mask = new DeviceConstant(() => tensor(mask).view(windows, (long)_window * _window, (long)_window * _window));
        }
        RegisterComponents();
    }

    /// <summary>This block's stochastic-depth rate (train mode only).</summary>
    public double DropPathRate { get; }

    /// <summary>The window attention, for initialization.</summary>
    public WindowAttention Attention => attn;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3];
        x = x.add(DropPath.Apply(Attend(norm1.call(x)), DropPathRate, training));
        var tokens = x.reshape(b, -1, c);
        tokens = tokens.add(DropPath.Apply(mlp.call(norm2.call(tokens)), DropPathRate, training));
        return tokens.reshape(b, h, w, c).MoveToOuterDisposeScope();
    }

    Tensor Attend(Tensor x)
    {
        long h = x.shape[1], w = x.shape[2], c = x.shape[3];
        if (_shift > 0) x = roll(x, new long[] { -_shift, -_shift }, new long[] { 1, 2 });
        long padH = (_window - h % _window) % _window, padW = (_window - w % _window) % _window;
        if (padH > 0 || padW > 0) x = nn.functional.pad(x, new long[] { 0, 0, 0, padW, 0, padH });
        long hp = h + padH, wp = w + padW;
        var windows = attn.call(SwinWindows.Partition(x, _window), _mask?.On(x.device));
        x = SwinWindows.Reverse(windows, _window, hp, wp);
        if (padH > 0 || padW > 0) x = x.narrow(1, 0, h).narrow(2, 0, w);
        if (_shift > 0) x = roll(x, new long[] { _shift, _shift }, new long[] { 1, 2 });
        return x;
    }
}

/// <summary>
/// timm's <c>PatchMerging</c>: each 2×2 neighbourhood of a [B, H, W, C] map concatenated to 4·C channels in the order
/// (0,0), (1,0), (0,1), (1,1) (row offset fastest), LayerNorm <c>norm</c> over 4·C, then <c>reduction</c> (no bias)
/// to the next stage's width.
/// </summary>
internal sealed class PatchMerging : nn.Module<Tensor, Tensor>
{
    readonly LayerNorm norm;
    readonly Linear reduction;

    public PatchMerging(int dim, int outDim) : base(nameof(PatchMerging))
    {
        norm = nn.LayerNorm(4 * dim, eps: 1e-5);
        reduction = nn.Linear(4 * dim, outDim, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3];
        var merged = x.reshape(b, h / 2, 2, w / 2, 2, c).permute(0, 1, 3, 4, 2, 5).flatten(3);
        return reduction.call(norm.call(merged)).MoveToOuterDisposeScope();
    }
}

/// <summary>timm's <c>SwinTransformerStage</c>: <c>downsample</c> (a patch merging, stages 1…) then <c>blocks</c>.</summary>
internal sealed class SwinTransformerStage : nn.Module<Tensor, Tensor>
{
    readonly PatchMerging? downsample;
    readonly Sequential blocks;

    public SwinTransformerStage(SwinSpec spec, int stage, IReadOnlyList<double> dropPath) : base(nameof(SwinTransformerStage))
    {
        downsample = stage > 0 ? new PatchMerging(spec.StageDim(stage - 1), spec.StageDim(stage)) : null;
        Blocks = Enumerable.Range(0, spec.Depths[stage]).Select(i => new SwinTransformerBlock(spec, stage, i, dropPath[i])).ToArray();
        blocks = nn.Sequential(Blocks.Select(b => (nn.Module<Tensor, Tensor>)b).ToArray());
        RegisterComponents();
    }

    /// <summary>The blocks in order.</summary>
    public IReadOnlyList<SwinTransformerBlock> Blocks { get; }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        if (downsample is not null) x = downsample.call(x);
        return blocks.call(x).MoveToOuterDisposeScope();
    }
}

/// <summary>timm's <c>ClassifierHead</c> as Swin uses it: its Linear <c>fc</c> (pooling is the model's).</summary>
internal sealed class SwinHead : nn.Module<Tensor, Tensor>
{
    Linear? fc;

    public SwinHead(int features, int numClasses) : base("ClassifierHead")
    {
        fc = numClasses > 0 ? nn.Linear(features, numClasses) : null;
        RegisterComponents();
    }

    /// <summary>The classifier, or null for an identity head.</summary>
    public Linear? Fc => fc;

    /// <summary>Replaces <c>fc</c> (PyTorch's default Linear initialization, as timm's <c>ClassifierHead.reset</c>).</summary>
    public void Reset(int features, int numClasses)
    {
        var old = fc;
        register_module("fc", null!);
        fc = numClasses > 0 ? nn.Linear(features, numClasses) : null;
        if (fc is not null) register_module("fc", fc);
        old?.Dispose();
    }

    public override Tensor forward(Tensor x) => fc is null ? x.alias() : fc.call(x);
}

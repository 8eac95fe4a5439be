namespace MLNet.WeightSelection.Selection;

/// <summary>
/// How weight selection sees one model family, keyed by timm's parameter names: its layer groups (for layer
/// selection), the widths each tensor axis is tied to (for consistent element selection), which keys are the
/// classifier, and the family's component-mapping rules. <see cref="FamilySchemas"/> holds the built-in ones.
/// </summary>
public sealed class SelectionSchema
{
    IReadOnlyList<string> _signature = Array.Empty<string>();
    KeyPattern[] _signaturePatterns = Array.Empty<KeyPattern>();
    IReadOnlyList<string> _layerGroups = Array.Empty<string>();
    KeyPattern[] _layerGroupPatterns = Array.Empty<KeyPattern>();
    IReadOnlyList<string> _reshapeKeys = Array.Empty<string>();
    KeyPattern[] _reshapePatterns = Array.Empty<KeyPattern>();
    IReadOnlyList<string> _attentionWidths = Array.Empty<string>();
    KeyPattern[] _attentionPatterns = Array.Empty<KeyPattern>();
    IReadOnlyDictionary<string, string> _headCountWidths = new Dictionary<string, string>();
    (KeyPattern Attention, string Heads)[] _headCountPatterns = Array.Empty<(KeyPattern, string)>();

    /// <summary>The family's name (<c>vit</c>, <c>convnext</c>, <c>resnet</c>).</summary>
    public required string Family { get; init; }

    /// <summary>Key patterns that together identify the family: a state dict belongs to it when every pattern
    /// matches at least one key.</summary>
    public required IReadOnlyList<string> Signature
    {
        get => _signature;
        init { _signature = value; _signaturePatterns = value.Select(p => new KeyPattern(p)).ToArray(); }
    }

    /// <summary>
    /// Layer groups as key prefixes whose last placeholder numbers the layer: <c>blocks.{i}</c> (one group),
    /// <c>stages.{s}.blocks.{i}</c> or <c>layer{s}.{i}</c> (one group per stage). Layer selection picks, per group,
    /// which teacher layer each student layer takes.
    /// </summary>
    public IReadOnlyList<string> LayerGroups
    {
        get => _layerGroups;
        init { _layerGroups = value; _layerGroupPatterns = value.Select(KeyPattern.Prefix).ToArray(); }
    }

    /// <summary>The final classifier's keys: they keep the student's own initialization.</summary>
    public IReadOnlyList<string> ClassifierKeys { get; init; } = Array.Empty<string>();

    /// <summary>Width bindings, first match wins. A key no rule matches is unknown to the schema and falls back to
    /// per-axis element selection.</summary>
    public IReadOnlyList<WidthRule> Rules { get; init; } = Array.Empty<WidthRule>();

    /// <summary>Ties between width names, derived from the student's keys (a residual block without a downsample
    /// makes its input width and output width one width).</summary>
    public Func<IReadOnlyCollection<string>, IEnumerable<WidthTie>>? Ties { get; init; }

    /// <summary>
    /// Keys whose tensors may differ between teacher and student by trailing size-1 axes, mapped by reshaping
    /// (ConvNeXt's <c>mlp.fc1.weight</c> is a 1×1 convolution [h, d, 1, 1] in the conv_mlp presets and a Linear [h, d]
    /// otherwise).
    /// </summary>
    public IReadOnlyList<string> ReshapeKeys
    {
        get => _reshapeKeys;
        init { _reshapeKeys = value; _reshapePatterns = value.Select(p => new KeyPattern(p)).ToArray(); }
    }

    /// <summary>Width-name patterns of attention inner widths (heads × head_dim), which whole-head selection splits
    /// into heads.</summary>
    public IReadOnlyList<string> AttentionWidths
    {
        get => _attentionWidths;
        init { _attentionWidths = value; _attentionPatterns = value.Select(p => new KeyPattern(p)).ToArray(); }
    }

    /// <summary>
    /// Attention-width pattern → the width of an axis with one entry per head of it (a windowed model's relative
    /// position bias table [(2w−1)², heads]), as a template with the pattern's placeholders. Whole-head selection then takes the head counts
    /// from that width's sizes, not from <see cref="SelectionOptions.TeacherHeads"/> and
    /// <see cref="SelectionOptions.StudentHeads"/> (a hierarchical model's head count changes from stage to stage), and
    /// gives that width the chosen heads as its indices, so the per-head tensors follow the heads.
    /// </summary>
    public IReadOnlyDictionary<string, string> HeadCountWidths
    {
        get => _headCountWidths;
        init { _headCountWidths = value; _headCountPatterns = value.Select(p => (new KeyPattern(p.Key), p.Value)).ToArray(); }
    }

    /// <summary>Keys of prefix tokens ([1, n, dim], such as <c>cls_token</c>) that precede the grid tokens in the
    /// position embedding; their n's add up to the number of prefix tokens kept when the grid is resampled.</summary>
    public IReadOnlyList<string> PrefixTokenKeys { get; init; } = Array.Empty<string>();

    /// <summary>True when every <see cref="Signature"/> pattern matches one of <paramref name="keys"/>.</summary>
    public bool Recognizes(IEnumerable<string> keys) => MissingSignature(keys).Count == 0;

    /// <summary>The <see cref="Signature"/> patterns no key matches.</summary>
    public IReadOnlyList<string> MissingSignature(IEnumerable<string> keys)
    {
        var list = keys as IReadOnlyCollection<string> ?? keys.ToArray();
        return _signaturePatterns.Where(p => !list.Any(p.IsMatch)).Select(p => p.Text).ToArray();
    }

    /// <summary>
    /// The axis bindings of <paramref name="key"/>, a tensor with <paramref name="rank"/> axes, with width names filled
    /// in: the first rule that matches the key and binds no more axes than the tensor has (so one name can be a
    /// convolution in one variant and a norm in another), or null when the schema does not know the key.
    /// </summary>
    public AxisBinding[]? Bind(string key, int rank)
    {
        foreach (var rule in Rules)
            if (rule.Axes.Count <= rank && rule.Bind(key) is { } axes) return axes;
        return null;
    }

    /// <summary>True when <paramref name="key"/> may differ from its counterpart by trailing size-1 axes.</summary>
    public bool AllowsReshape(string key) => _reshapePatterns.Any(p => p.IsMatch(key));

    /// <summary>True when <paramref name="width"/> is an attention inner width (heads × head_dim).</summary>
    public bool IsAttentionWidth(string width) => _attentionPatterns.Any(p => p.IsMatch(width));

    /// <summary>The head-count width of attention width <paramref name="width"/> (see <see cref="HeadCountWidths"/>), or null.</summary>
    public string? HeadCountWidthOf(string width)
    {
        foreach (var (attention, heads) in _headCountPatterns)
            if (attention.TryMatch(width, out var captures)) return KeyPattern.Fill(heads, captures);
        return null;
    }

    /// <summary>The compiled layer-group patterns.</summary>
    internal IReadOnlyList<KeyPattern> LayerGroupPatterns => _layerGroupPatterns;

    /// <inheritdoc />
    public override string ToString() => Family;
}

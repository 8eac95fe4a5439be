namespace MLNet.WeightSelection.Selection;

/// <summary>What one tensor axis is tied to.</summary>
public enum AxisBindingKind
{
    /// <summary>Tied to no width (kernel spatial axes, input channels, a classifier's class axis): the sizes must be
    /// equal, or the axis falls back to per-axis element selection.</summary>
    None,

    /// <summary>Tied to a named width: the axis is indexed through that width's index set.</summary>
    Width,

    /// <summary>The token axis of a position embedding: resampled (not selected) when the token grids differ.</summary>
    Tokens,
}

/// <summary>
/// Ties a tensor axis to a named width. <see cref="Blocks"/> &gt; 1 marks a fused axis made of that many copies of
/// the width (timm's <c>attn.qkv</c> is three blocks of the attention inner width: q, k and v), so every block takes
/// the same indices. Width names in a schema may be templates (<c>blocks.{i}.mlp.hidden</c>).
/// </summary>
/// <param name="Kind">What the axis is tied to.</param>
/// <param name="Width">The width name (or template), when <paramref name="Kind"/> is <see cref="AxisBindingKind.Width"/>.</param>
/// <param name="Blocks">How many consecutive copies of the width the axis holds (1 for a plain axis).</param>
public sealed record AxisBinding(AxisBindingKind Kind, string? Width = null, int Blocks = 1)
{
    /// <summary>An axis tied to no width.</summary>
    public static AxisBinding None { get; } = new(AxisBindingKind.None);

    /// <summary>The token axis of a position embedding.</summary>
    public static AxisBinding Tokens { get; } = new(AxisBindingKind.Tokens);

    /// <summary>An axis tied to <paramref name="width"/>.</summary>
    public static AxisBinding To(string width) => new(AxisBindingKind.Width, width);

    /// <summary>An axis made of <paramref name="blocks"/> consecutive copies of <paramref name="width"/> (fused q, k, v).</summary>
    public static AxisBinding Fused(int blocks, string width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blocks, 1);
        return new(AxisBindingKind.Width, width, blocks);
    }

    /// <summary>Short form for reports: <c>embed</c>, <c>3×blocks.0.attn.inner</c>, <c>tokens</c> or <c>-</c>.</summary>
    public override string ToString() => Kind switch
    {
        AxisBindingKind.Width when Blocks > 1 => $"{Blocks}x{Width}",
        AxisBindingKind.Width => Width!,
        AxisBindingKind.Tokens => "tokens",
        _ => "-",
    };
}

/// <summary>
/// Binds the leading axes of every tensor whose key matches <see cref="Pattern"/> to widths. Axes beyond
/// <see cref="Axes"/> are tied to nothing (kernel spatial axes, a 1×1 convolution's trailing axes).
/// </summary>
public sealed class WidthRule
{
    /// <summary>Creates a rule: <paramref name="pattern"/> is a <see cref="KeyPattern"/>; width names may use its placeholders.</summary>
    public WidthRule(string pattern, params AxisBinding[] axes)
    {
        Pattern = new KeyPattern(pattern);
        Axes = axes;
    }

    /// <summary>The keys this rule covers.</summary>
    public KeyPattern Pattern { get; }

    /// <summary>Bindings of the leading axes, width names as templates.</summary>
    public IReadOnlyList<AxisBinding> Axes { get; }

    /// <summary>The bindings for <paramref name="key"/> with width names filled in, or null when the key does not match.</summary>
    public AxisBinding[]? Bind(string key)
    {
        if (!Pattern.TryMatch(key, out var captures)) return null;
        return Axes.Select(a => a.Kind == AxisBindingKind.Width ? a with { Width = KeyPattern.Fill(a.Width!, captures) } : a)
            .ToArray();
    }

    /// <inheritdoc />
    public override string ToString() => $"{Pattern.Text}: [{string.Join(", ", Axes)}]";
}

/// <summary>Two width names that are one width (a residual connection adds them), so they share one index set.</summary>
/// <param name="Width">The name that stays canonical in reports.</param>
/// <param name="SameAs">The name tied to it.</param>
public sealed record WidthTie(string Width, string SameAs);

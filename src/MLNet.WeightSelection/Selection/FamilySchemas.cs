namespace MLNet.WeightSelection.Selection;

/// <summary>
/// The built-in selection schemas (ViT, ConvNeXt, ResNet) keyed by timm's parameter names, and detection of a
/// family from a state dict's keys. Model families reuse these to declare their widths.
/// </summary>
public static partial class FamilySchemas
{
    /// <summary>All built-in schemas.</summary>
    // A property, not a field: static initializers of partial class parts run in no defined order.
    public static IReadOnlyList<SelectionSchema> All => new[] { Vit, ConvNeXt, ResNet };

    /// <summary>The schema whose signature <paramref name="keys"/> carry, or null when none does.</summary>
    public static SelectionSchema? Detect(IEnumerable<string> keys)
    {
        var list = keys as IReadOnlyCollection<string> ?? keys.ToArray();
        return All.FirstOrDefault(s => s.Recognizes(list));
    }

    /// <summary>The built-in schema named <paramref name="family"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No built-in family has that name.</exception>
    public static SelectionSchema ByName(string family) =>
        All.FirstOrDefault(s => string.Equals(s.Family, family, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"No selection schema for family '{family}'; known: {string.Join(", ", All.Select(s => s.Family))}.", nameof(family));

    static AxisBinding W(string width) => AxisBinding.To(width);

    static AxisBinding Unbound => AxisBinding.None;
}

namespace MLNet.WeightSelection.Selection;

/// <summary>
/// The selection schemas of the registered model families: what <see cref="WeightSelector"/> uses to recognize a
/// checkpoint's family from its keys. Each family defines its schema in its own folder and registers it through
/// <c>ModelFamilies.Register</c>; the built-in families are registered when the library loads.
/// </summary>
public static class FamilySchemas
{
    static readonly object Gate = new();
    static readonly List<SelectionSchema> Registered = new();

    /// <summary>Every registered schema, in registration order (detection tries them in this order).</summary>
    public static IReadOnlyList<SelectionSchema> All
    {
        get { lock (Gate) return Registered.ToArray(); }
    }

    /// <summary>The built-in ViT schema.</summary>
    public static SelectionSchema Vit => ByName("vit");

    /// <summary>The built-in ConvNeXt schema.</summary>
    public static SelectionSchema ConvNeXt => ByName("convnext");

    /// <summary>The built-in ResNet schema.</summary>
    public static SelectionSchema ResNet => ByName("resnet");

    /// <summary>The first schema whose signature keys all occur in <paramref name="keys"/>, or null.</summary>
    public static SelectionSchema? Detect(IEnumerable<string> keys)
    {
        var list = keys as IReadOnlyCollection<string> ?? keys.ToArray();
        return All.FirstOrDefault(s => s.Recognizes(list));
    }

    /// <summary>The schema of <paramref name="family"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No registered family has that name.</exception>
    public static SelectionSchema ByName(string family) =>
        All.FirstOrDefault(s => string.Equals(s.Family, family, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"No selection schema for family '{family}'; known: {string.Join(", ", All.Select(s => s.Family))}.", nameof(family));

    /// <summary>Adds a family's schema; a family registers it once (<c>ModelFamilies.Register</c> calls this).</summary>
    /// <exception cref="ArgumentException">Another schema of the same family name is registered.</exception>
    internal static void Register(SelectionSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        lock (Gate)
        {
            var existing = Registered.FirstOrDefault(s => string.Equals(s.Family, schema.Family, StringComparison.OrdinalIgnoreCase));
            if (ReferenceEquals(existing, schema)) return;
            if (existing is not null) throw new ArgumentException($"A selection schema for family '{schema.Family}' is already registered.", nameof(schema));
            Registered.Add(schema);
        }
    }
}

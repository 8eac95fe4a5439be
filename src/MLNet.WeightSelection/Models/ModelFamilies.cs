using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Models;

/// <summary>
/// The registered model families. The library's own register themselves from their folders
/// when it loads (each family's registration object has a module initializer); a
/// family from another assembly registers with <see cref="Register"/>, after which specs, presets, selection and
/// everything that asks "which family is this?" know it.
/// </summary>
public static class ModelFamilies
{
    static readonly ConcurrentDictionary<string, ModelFamily> Families = new(StringComparer.Ordinal);

    /// <summary>Every registered family, in registration order.</summary>
    // Ordered as the schemas were registered; a schema whose family is still being registered on another thread is skipped.
    public static IReadOnlyList<ModelFamily> All =>
        FamilySchemas.All.Select(s => Families.TryGetValue(s.Family, out var f) ? f : null).OfType<ModelFamily>().ToList();

    /// <summary>The registered family names.</summary>
    public static IEnumerable<string> Names => All.Select(f => f.Name);

    /// <summary>The family named <paramref name="name"/>, if registered.</summary>
    public static bool TryGet(string name, [NotNullWhen(true)] out ModelFamily? family) => Families.TryGetValue(name, out family);

    /// <summary>The family named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No family of that name is registered.</exception>
    public static ModelFamily Get(string name) => TryGet(name, out var family) ? family
        : throw new KeyNotFoundException($"No model family '{name}' is registered; known: {string.Join(", ", Names)}.");

    /// <summary>
    /// Registers <paramref name="family"/>: its name for specs, its presets for <see cref="ModelRegistry"/>, its schema
    /// for selection. Registering the same object again does nothing.
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty or taken, the schema names another family, or a preset name is taken or invalid.</exception>
    public static void Register(ModelFamily family)
    {
        ArgumentNullException.ThrowIfNull(family);
        ArgumentException.ThrowIfNullOrWhiteSpace(family.Name, nameof(family));
        if (Families.TryGetValue(family.Name, out var existing))
        {
            if (ReferenceEquals(existing, family)) return;
            throw new ArgumentException($"A model family named '{family.Name}' is already registered.", nameof(family));
        }
        if (!string.Equals(family.Schema.Family, family.Name, StringComparison.Ordinal))
            throw new ArgumentException($"The family '{family.Name}' has a selection schema for '{family.Schema.Family}'.", nameof(family));
        var taken = family.Presets.Keys.Where(ModelRegistry.Contains).ToList();
        if (taken.Count > 0)
            throw new ArgumentException($"The family '{family.Name}' has presets whose names are taken: {string.Join(", ", taken)}.", nameof(family));
        foreach (var (name, spec) in family.Presets)
            if (!string.Equals(spec.Family, family.Name, StringComparison.Ordinal))
                throw new ArgumentException($"The family '{family.Name}' has a preset '{name}' of family '{spec.Family}'.", nameof(family));

        FamilySchemas.Register(family.Schema);
        Families[family.Name] = family;
        foreach (var (name, spec) in family.Presets) ModelRegistry.Register(name, spec);
    }
}

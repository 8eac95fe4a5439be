using System.Collections.Concurrent;
using System.Text.Json;

namespace MLNet.WeightSelection.Models;

/// <summary>
/// Presets by name, like timm's <c>create_model</c>: <c>ModelRegistry.Create("vit_tiny_patch16_224", numClasses: 10,
/// imgSize: 64)</c>. A spec string can also be inline JSON (<c>{"family": "resnet", ...}</c>) or a path to a .json file.
/// A pretrained tag after a dot (<c>resnet18.a1_in1k</c>) is accepted and ignored, as timm resolves it to the
/// architecture.
/// </summary>
public static class ModelRegistry
{
    // Filled by ModelFamilies.Register: the built-in families' presets when the library loads, then any user's.
    static readonly ConcurrentDictionary<string, ModelSpec> Presets = new(StringComparer.Ordinal);

    /// <summary>All registered names, sorted.</summary>
    public static IReadOnlyList<string> Names => Presets.Keys.OrderBy(n => n, StringComparer.Ordinal).ToList();

    /// <summary>True when <paramref name="name"/> (optionally with a pretrained tag) is registered.</summary>
    public static bool Contains(string name) => Presets.ContainsKey(StripTag(name));

    /// <summary>Registers (or replaces) a preset under <paramref name="name"/>.</summary>
    public static void Register(string name, ModelSpec spec)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(spec);
        if (name.Contains('.') || name.TrimStart().StartsWith('{'))
            throw new ArgumentException($"A preset name cannot contain '.' or start with '{{'; got '{name}'.", nameof(name));
        spec.Validate();
        Presets[name] = spec;
    }

    /// <summary>The spec of preset <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">Unknown name; the message lists close names.</exception>
    public static ModelSpec GetSpec(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (Presets.TryGetValue(StripTag(name), out var spec)) return spec;
        var close = CloseNames(StripTag(name));
        throw new KeyNotFoundException(close.Count > 0
            ? $"Unknown model '{name}'. Did you mean: {string.Join(", ", close)}?"
            : $"Unknown model '{name}'. Known models: {string.Join(", ", Names)}.");
    }

    /// <summary>
    /// A spec from a preset name, inline JSON (starting with '{'), or the path of a .json file holding a spec.
    /// </summary>
    /// <exception cref="KeyNotFoundException">Not JSON, not a file, and not a preset (close names listed).</exception>
    /// <exception cref="JsonException">Invalid JSON (for a file, the message names it).</exception>
    public static ModelSpec ResolveSpec(string spec)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        string text = spec.Trim();
        if (text.StartsWith('{')) return ModelSpec.FromJson(text);
        if (Presets.TryGetValue(StripTag(text), out var preset)) return preset;
        if (File.Exists(text))
        {
            try { return ModelSpec.FromJson(File.ReadAllText(text)); }
            catch (JsonException e) { throw new JsonException($"{Path.GetFullPath(text)}: {e.Message}", e.Path, e.LineNumber, e.BytePositionInLine, e); }
        }
        if (text.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            throw new FileNotFoundException($"No model spec file at '{Path.GetFullPath(text)}'.", text);
        return GetSpec(text);
    }

    /// <summary>
    /// Builds a freshly initialized model from a preset name, inline JSON or .json path, with optional overrides of
    /// the number of classes and the image size (for ViT, the position-embedding grid).
    /// </summary>
    public static ImageClassifier Create(string nameOrJson, int? numClasses = null, int? imgSize = null) =>
        WithOverrides(ResolveSpec(nameOrJson), numClasses, imgSize).CreateModel();

    /// <summary><paramref name="spec"/> with the given number of classes and image size, where given.</summary>
    public static ModelSpec WithOverrides(ModelSpec spec, int? numClasses = null, int? imgSize = null)
    {
        if (numClasses is { } n) spec = spec.WithNumClasses(n);
        if (imgSize is { } s) spec = spec.WithImageSize(s);
        spec.Validate();
        return spec;
    }

    static string StripTag(string name)
    {
        int dot = name.IndexOf('.');
        return dot > 0 ? name[..dot] : name;
    }

    static List<string> CloseNames(string name)
    {
        int limit = Math.Max(3, name.Length / 3);
        return Presets.Keys
            .Select(k => (Name: k, Distance: Levenshtein(name, k)))
            .Where(p => p.Distance <= limit || p.Name.Contains(name, StringComparison.OrdinalIgnoreCase)
                || (name.Length >= 3 && p.Name.StartsWith(name.Split('_')[0], StringComparison.OrdinalIgnoreCase)))
            .OrderBy(p => p.Distance).ThenBy(p => p.Name, StringComparer.Ordinal)
            .Take(6).Select(p => p.Name).ToList();
    }

    static int Levenshtein(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}

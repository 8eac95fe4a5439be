using System.Text.Json;

namespace MLNet.WeightSelection.Models.Json;

/// <summary>
/// Reads timm keyword arguments from one JSON object, strictly: a property of the wrong type, or one no reader
/// asked for, is a <see cref="JsonException"/> that names it. Used by the family specs' <c>FromJson</c>.
/// </summary>
public sealed class KwargsReader
{
    readonly JsonElement _object;
    readonly HashSet<string> _read = new(StringComparer.Ordinal);

    /// <summary>Wraps <paramref name="obj"/>, which must be a JSON object.</summary>
    /// <param name="obj">The JSON object.</param>
    /// <param name="context">What the object is (e.g. "vit spec"), used in error messages.</param>
    /// <param name="path">JSON path of the object, for error messages ("$" or "$.pretrained_cfg").</param>
    public KwargsReader(JsonElement obj, string context, string path = "$")
    {
        if (obj.ValueKind != JsonValueKind.Object)
            throw new JsonException($"{context}: expected a JSON object at {path}, got {Describe(obj)}.", path, null, null);
        _object = obj;
        Context = context;
        Path = path;
    }

    /// <summary>What the object is, for error messages.</summary>
    public string Context { get; }

    /// <summary>JSON path of the object.</summary>
    public string Path { get; }

    /// <summary>True when the object has <paramref name="name"/> (JSON null counts as present).</summary>
    public bool Has(string name) => _object.TryGetProperty(name, out _);

    /// <summary>Marks <paramref name="name"/> as read without interpreting it.</summary>
    public void Skip(string name) => _read.Add(name);

    /// <summary>An integer property, or <paramref name="fallback"/> when absent.</summary>
    public int Int(string name, int fallback) => Get(name) is { } e ? ToInt(name, e) : fallback;

    /// <summary>An integer property that may be JSON null, or <paramref name="fallback"/> when absent.</summary>
    public int? NullableInt(string name, int? fallback) =>
        Get(name) is { } e ? e.ValueKind == JsonValueKind.Null ? null : ToInt(name, e) : fallback;

    /// <summary>A number property, or <paramref name="fallback"/> when absent.</summary>
    public double Double(string name, double fallback) => Get(name) is { } e ? ToDouble(name, e) : fallback;

    /// <summary>A number property that may be JSON null, or <paramref name="fallback"/> when absent.</summary>
    public double? NullableDouble(string name, double? fallback) =>
        Get(name) is { } e ? e.ValueKind == JsonValueKind.Null ? null : ToDouble(name, e) : fallback;

    /// <summary>A boolean property, or <paramref name="fallback"/> when absent.</summary>
    public bool Bool(string name, bool fallback) => Get(name) is { } e ? ToBool(name, e) : fallback;

    /// <summary>A boolean property that may be JSON null, or <paramref name="fallback"/> when absent.</summary>
    public bool? NullableBool(string name, bool? fallback) =>
        Get(name) is { } e ? e.ValueKind == JsonValueKind.Null ? null : ToBool(name, e) : fallback;

    /// <summary>A string property, or <paramref name="fallback"/> when absent; with <paramref name="allowed"/>, one of those (ordinal).</summary>
    public string String(string name, string fallback, params string[] allowed)
    {
        if (Get(name) is not { } e) return fallback;
        if (e.ValueKind != JsonValueKind.String) throw Mistyped(name, "a string", e);
        string value = e.GetString()!;
        if (allowed.Length > 0 && !allowed.Contains(value, StringComparer.Ordinal))
            throw Error(name, $"must be one of {string.Join(", ", allowed.Select(a => $"\"{a}\""))}; got \"{value}\"");
        return value;
    }

    /// <summary>An array of integers, or <paramref name="fallback"/> when absent; a required one when <paramref name="fallback"/> is null.</summary>
    public int[] IntArray(string name, int[]? fallback)
    {
        if (Get(name) is not { } e)
            return fallback?.ToArray() ?? throw new JsonException($"{Context}: required property '{name}' is missing.", $"{Path}.{name}", null, null);
        if (e.ValueKind != JsonValueKind.Array) throw Mistyped(name, "an array of integers", e);
        var values = new int[e.GetArrayLength()];
        int i = 0;
        foreach (var item in e.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out values[i]))
                throw Error($"{name}[{i}]", $"must be an integer; got {Describe(item)}");
            i++;
        }
        return values;
    }

    /// <summary>
    /// An array of arrays of strings (timm's nested string lists, such as a block definition per stage), or
    /// <paramref name="fallback"/> when absent.
    /// </summary>
    public string[][] StringArrays(string name, string[][] fallback)
    {
        if (Get(name) is not { } e) return fallback.Select(inner => inner.ToArray()).ToArray();
        if (e.ValueKind != JsonValueKind.Array) throw Mistyped(name, "an array of arrays of strings", e);
        var outer = new List<string[]>();
        int i = 0;
        foreach (var item in e.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Array) throw Error($"{name}[{i}]", $"must be an array of strings; got {Describe(item)}");
            var inner = new List<string>();
            int j = 0;
            foreach (var value in item.EnumerateArray())
            {
                if (value.ValueKind != JsonValueKind.String) throw Error($"{name}[{i}][{j}]", $"must be a string; got {Describe(value)}");
                inner.Add(value.GetString()!);
                j++;
            }
            outer.Add(inner.ToArray());
            i++;
        }
        return outer.ToArray();
    }

    /// <summary>An array of numbers, or <paramref name="fallback"/> when absent.</summary>
    public float[] FloatArray(string name, float[] fallback)
    {
        if (Get(name) is not { } e) return fallback.ToArray();
        if (e.ValueKind != JsonValueKind.Array) throw Mistyped(name, "an array of numbers", e);
        var values = new List<float>();
        int i = 0;
        foreach (var item in e.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number) throw Error($"{name}[{i}]", $"must be a number; got {Describe(item)}");
            values.Add((float)item.GetDouble());
            i++;
        }
        return values.ToArray();
    }

    /// <summary>A nested object property as its own reader, or null when absent or JSON null.</summary>
    public KwargsReader? Object(string name, string context)
    {
        if (Get(name) is not { } e || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind != JsonValueKind.Object) throw Mistyped(name, "an object", e);
        return new KwargsReader(e, context, $"{Path}.{name}");
    }

    /// <summary>Throws a <see cref="JsonException"/> naming every property that no reader asked for.</summary>
    public void EnsureAllRead()
    {
        var unknown = _object.EnumerateObject().Select(p => p.Name).Where(n => !_read.Contains(n)).ToList();
        if (unknown.Count == 0) return;
        var known = string.Join(", ", _read.OrderBy(n => n, StringComparer.Ordinal));
        throw new JsonException(
            $"{Context}: unknown propert{(unknown.Count == 1 ? "y" : "ies")} {string.Join(", ", unknown.Select(u => $"'{u}'"))}. Known: {known}.",
            $"{Path}.{unknown[0]}", null, null);
    }

    /// <summary>An error about property <paramref name="name"/> (a <see cref="JsonException"/> whose path names it).</summary>
    public JsonException Error(string name, string problem) =>
        new($"{Context}: property '{name}' {problem}.", $"{Path}.{name}", null, null);

    JsonElement? Get(string name)
    {
        _read.Add(name);
        return _object.TryGetProperty(name, out var e) ? e : null;
    }

    int ToInt(string name, JsonElement e) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int v) ? v : throw Mistyped(name, "an integer", e);

    double ToDouble(string name, JsonElement e) =>
        e.ValueKind == JsonValueKind.Number ? e.GetDouble() : throw Mistyped(name, "a number", e);

    bool ToBool(string name, JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Mistyped(name, "true or false", e),
    };

    JsonException Mistyped(string name, string expected, JsonElement e) => Error(name, $"must be {expected}; got {Describe(e)}");

    static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{e.GetString()}\"",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => e.GetRawText(),
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => e.ValueKind.ToString(),
    };
}

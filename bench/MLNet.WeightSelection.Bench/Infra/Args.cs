using System.Globalization;

namespace MLNet.WeightSelection.Bench.Infra;

/// <summary>Minimal <c>--name value</c> / <c>--flag</c> parsing; unknown options are an error so typos do not run silently.</summary>
sealed class Args
{
    readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public Args(IEnumerable<string> args)
    {
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            if (!list[i].StartsWith("--", StringComparison.Ordinal))
                throw new ArgumentException($"Unexpected argument '{list[i]}'; options look like --name value.");
            string name = list[i][2..];
            string? value = i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal) ? list[++i] : null;
            _values[name] = value;
        }
    }

    public string Get(string name, string fallback) => Raw(name) ?? fallback;

    public string Required(string name) => Raw(name) ?? throw new ArgumentException($"--{name} is required.");

    public string? Optional(string name) => Raw(name);

    public int Int(string name, int fallback) => Raw(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public double Double(string name, double fallback) => Raw(name) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public bool Flag(string name)
    {
        _used.Add(name);
        return _values.ContainsKey(name);
    }

    public int[] Ints(string name, string fallback) =>
        Get(name, fallback).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();

    public string[] List(string name, string fallback) => Get(name, fallback).Split(',', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Throws when an option was given that the command never asked for.</summary>
    public void EnsureAllUsed()
    {
        var unknown = _values.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"Unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}.");
    }

    string? Raw(string name)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var v) ? v : null;
    }
}

using System.Text.Json;
using System.Text.RegularExpressions;

namespace MLNet.WeightSelection.Tests.Samples;

/// <summary>
/// Reads the <c>// &lt;notebook:NAME&gt;</c> … <c>// &lt;/notebook:NAME&gt;</c> regions of the sample's C# files and of the
/// notebook's code cells, and compares them with whitespace normalized.
/// </summary>
public static partial class NotebookRegions
{
    [GeneratedRegex(@"^[ \t]*//[ \t]*<notebook:(?<name>[a-z0-9-]+)>[ \t]*\r?$(?<body>.*?)^[ \t]*//[ \t]*</notebook:\k<name>>", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex RegionPattern();

    [GeneratedRegex(@"</?notebook:[a-z0-9-]+>")]
    private static partial Regex AnyMarker();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    /// <summary>Every region of <paramref name="text"/> by name, its body normalized. Throws on a duplicate name or a stray marker.</summary>
    public static Dictionary<string, string> Extract(string text, string source)
    {
        var regions = new Dictionary<string, string>(StringComparer.Ordinal);
        int pairedMarkers = 0;
        foreach (Match m in RegionPattern().Matches(text))
        {
            string name = m.Groups["name"].Value;
            if (!regions.TryAdd(name, Normalize(m.Groups["body"].Value)))
                throw new InvalidDataException($"{source}: region '{name}' appears twice.");
            pairedMarkers += 2;
        }
        int markers = AnyMarker().Matches(text).Count;
        if (markers != pairedMarkers)
            throw new InvalidDataException($"{source}: {markers - pairedMarkers} notebook marker(s) without a matching open or close marker.");
        return regions;
    }

    /// <summary>Collapses every run of whitespace to one space and trims.</summary>
    public static string Normalize(string code) => Whitespace().Replace(code, " ").Trim();

    /// <summary>The regions of every .cs file directly in <paramref name="sampleFolder"/>.</summary>
    public static Dictionary<string, string> FromSample(string sampleFolder)
    {
        var all = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(sampleFolder, "*.cs").OrderBy(f => f, StringComparer.Ordinal))
            foreach (var (name, body) in Extract(File.ReadAllText(file), file))
                if (!all.TryAdd(name, body)) throw new InvalidDataException($"Region '{name}' appears in more than one file (again in {file}).");
        return all;
    }

    /// <summary>The code cells' sources of a Jupyter notebook.</summary>
    public static List<string> CodeCells(string notebookJson)
    {
        using var doc = JsonDocument.Parse(notebookJson);
        var cells = new List<string>();
        foreach (var cell in doc.RootElement.GetProperty("cells").EnumerateArray())
        {
            if (cell.GetProperty("cell_type").GetString() != "code") continue;
            var source = cell.GetProperty("source");
            cells.Add(source.ValueKind == JsonValueKind.Array
                ? string.Concat(source.EnumerateArray().Select(l => l.GetString()))
                : source.GetString() ?? "");
        }
        return cells;
    }

    /// <summary>The regions of the notebook's code cells, each region wholly inside one cell.</summary>
    public static Dictionary<string, string> FromNotebook(string notebookJson, string source)
    {
        var all = new Dictionary<string, string>(StringComparer.Ordinal);
        var cells = CodeCells(notebookJson);
        for (int i = 0; i < cells.Count; i++)
            foreach (var (name, body) in Extract(cells[i], $"{source} code cell {i + 1}"))
                if (!all.TryAdd(name, body)) throw new InvalidDataException($"{source}: region '{name}' appears in more than one cell.");
        return all;
    }

    /// <summary>Every difference between the two sets of regions, one line each; empty when they agree.</summary>
    public static List<string> Differences(IReadOnlyDictionary<string, string> sample, IReadOnlyDictionary<string, string> notebook)
    {
        var problems = new List<string>();
        foreach (var name in sample.Keys.Except(notebook.Keys).OrderBy(n => n, StringComparer.Ordinal))
            problems.Add($"region '{name}' is in the sample but in no notebook cell");
        foreach (var name in notebook.Keys.Except(sample.Keys).OrderBy(n => n, StringComparer.Ordinal))
            problems.Add($"region '{name}' is in the notebook but not in the sample");
        foreach (var name in sample.Keys.Intersect(notebook.Keys).OrderBy(n => n, StringComparer.Ordinal))
        {
            string a = sample[name], b = notebook[name];
            if (a == b) continue;
            int at = 0;
            while (at < a.Length && at < b.Length && a[at] == b[at]) at++;
            problems.Add($"region '{name}' differs at character {at}: sample '…{Excerpt(a, at)}…' vs notebook '…{Excerpt(b, at)}…'");
        }
        return problems;
    }

    static string Excerpt(string s, int at) => s.Substring(Math.Max(0, at - 20), Math.Min(s.Length, at + 20) - Math.Max(0, at - 20));
}

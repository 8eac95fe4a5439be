using System.Text.Json;

namespace MLNet.WeightSelection.Tests.Models;

/// <summary>One case of tests/golden/manifest.json.</summary>
public sealed record GoldenCase(string Name, string Family, string TeacherJson, string StudentJson, int ImageSize,
    IReadOnlyList<string> ClassifierKeys, string TeacherFile, string StudentFile, string IoFile);

/// <summary>Reads tests/golden/manifest.json (tolerances and cases).</summary>
public static class GoldenManifest
{
    static readonly Lazy<(double Rtol, double Atol, IReadOnlyList<GoldenCase> Cases)> Loaded = new(Load);

    /// <summary>Relative tolerance for logits.</summary>
    public static double Rtol => Loaded.Value.Rtol;

    /// <summary>Absolute tolerance for logits.</summary>
    public static double Atol => Loaded.Value.Atol;

    /// <summary>All cases.</summary>
    public static IReadOnlyList<GoldenCase> Cases => Loaded.Value.Cases;

    /// <summary>The case named <paramref name="name"/>.</summary>
    public static GoldenCase Case(string name) => Cases.Single(c => c.Name == name);

    /// <summary>Case names as xunit member data.</summary>
    public static IEnumerable<object[]> CaseNames => Cases.Select(c => new object[] { c.Name });

    static (double, double, IReadOnlyList<GoldenCase>) Load()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.GoldenFile("manifest.json")));
        var root = doc.RootElement;
        var tolerance = root.GetProperty("tolerance");
        var cases = root.GetProperty("cases").EnumerateArray().Select(c =>
        {
            var files = c.GetProperty("files");
            return new GoldenCase(
                c.GetProperty("name").GetString()!,
                c.GetProperty("family").GetString()!,
                c.GetProperty("teacher").GetRawText(),
                c.GetProperty("student").GetRawText(),
                c.GetProperty("image_size").GetInt32(),
                c.GetProperty("classifier_keys").EnumerateArray().Select(k => k.GetString()!).ToList(),
                TestPaths.GoldenFile(files.GetProperty("teacher").GetString()!),
                TestPaths.GoldenFile(files.GetProperty("student").GetString()!),
                TestPaths.GoldenFile(files.GetProperty("io").GetString()!));
        }).ToList();
        return (tolerance.GetProperty("rtol").GetDouble(), tolerance.GetProperty("atol").GetDouble(), cases);
    }
}

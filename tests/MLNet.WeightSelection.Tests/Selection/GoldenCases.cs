using System.Text.Json;

namespace MLNet.WeightSelection.Tests.Selection;

/// <summary>The golden cases of tests/golden/manifest.json.</summary>
public static class GoldenCases
{
    public sealed record Case(string Name, string Family, string Teacher, string Student, string[] ClassifierKeys);

    public static IReadOnlyList<Case> Cases()
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(TestPaths.GoldenFile("manifest.json")));
        return manifest.RootElement.GetProperty("cases").EnumerateArray().Select(c => new Case(
            c.GetProperty("name").GetString()!, c.GetProperty("family").GetString()!,
            TestPaths.GoldenFile(c.GetProperty("files").GetProperty("teacher").GetString()!),
            TestPaths.GoldenFile(c.GetProperty("files").GetProperty("student").GetString()!),
            c.GetProperty("classifier_keys").EnumerateArray().Select(k => k.GetString()!).ToArray())).ToArray();
    }
}

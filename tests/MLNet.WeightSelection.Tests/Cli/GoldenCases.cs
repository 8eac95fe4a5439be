using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace MLNet.WeightSelection.Tests.Cli;

/// <summary>The golden cases of tests/golden/manifest.json with their specs as inline JSON (the manifest entry plus "family").</summary>
public static class GoldenCases
{
    public sealed record Case(string Name, string Family, string TeacherSpec, string StudentSpec, string Teacher, string Student,
        string[] ClassifierKeys, int NumClasses)
    {
        public override string ToString() => Name;
    }

    public static IReadOnlyList<Case> All()
    {
        var manifest = JsonNode.Parse(File.ReadAllText(TestPaths.GoldenFile("manifest.json")))!;
        return manifest["cases"]!.AsArray().Select(c =>
        {
            string family = c!["family"]!.GetValue<string>();
            return new Case(
                c["name"]!.GetValue<string>(), family,
                WithFamily(c["teacher"]!, family), WithFamily(c["student"]!, family),
                TestPaths.GoldenFile(c["files"]!["teacher"]!.GetValue<string>()),
                TestPaths.GoldenFile(c["files"]!["student"]!.GetValue<string>()),
                c["classifier_keys"]!.AsArray().Select(k => k!.GetValue<string>()).ToArray(),
                c["student"]!["num_classes"]!.GetValue<int>());
        }).ToArray();
    }

    public static Case Get(string name) => All().Single(c => c.Name == name);

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var c in All()) data.Add(c.Name);
        return data;
    }

    static string WithFamily(JsonNode entry, string family)
    {
        var copy = entry.DeepClone().AsObject();
        copy.Insert(0, "family", family);
        return copy.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }
}

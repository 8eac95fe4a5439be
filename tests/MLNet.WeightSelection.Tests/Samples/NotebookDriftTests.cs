using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit;

namespace MLNet.WeightSelection.Tests.Samples;

/// <summary>The notebook's code cells hold the sample's own code, region by region.</summary>
public partial class NotebookDriftTests
{
    static string SampleFolder => Path.Combine(TestPaths.RepoRoot, "samples", "ImageClassification");
    static string NotebookPath => Path.Combine(SampleFolder, "ImageClassification.ipynb");

    static readonly string[] ExpectedRegions = { "evaluate", "load-data", "plot", "predict", "save", "teacher", "train" };

    [Fact]
    public void Every_sample_region_is_in_a_notebook_cell_with_the_same_code()
    {
        var sample = NotebookRegions.FromSample(SampleFolder);
        var notebook = NotebookRegions.FromNotebook(File.ReadAllText(NotebookPath), NotebookPath);

        Assert.Equal(ExpectedRegions, sample.Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.All(sample.Values, body => Assert.True(body.Length > 40, $"region body too short to mean anything: '{body}'"));
        var differences = NotebookRegions.Differences(sample, notebook);
        Assert.True(differences.Count == 0, string.Join(Environment.NewLine, differences));
    }

    [Fact]
    public void The_notebook_is_a_csharp_polyglot_notebook()
    {
        var root = JsonNode.Parse(File.ReadAllText(NotebookPath))!;
        Assert.Equal(4, (int)root["nbformat"]!);
        Assert.Equal(".net-csharp", (string?)root["metadata"]!["kernelspec"]!["name"]);
        var cells = NotebookRegions.CodeCells(File.ReadAllText(NotebookPath));
        Assert.Contains(cells, c => c.Contains("#r \"nuget: Microsoft.ML,", StringComparison.Ordinal));
        Assert.Contains(cells, c => c.Contains("#r \"bin/Release/net10.0/ImageClassification.dll\"", StringComparison.Ordinal));
    }

    [Fact]
    public void The_notebooks_package_references_have_the_repositorys_versions()
    {
        var pinned = XDocument.Load(Path.Combine(TestPaths.RepoRoot, "Directory.Packages.props"))
            .Descendants("PackageVersion")
            .ToDictionary(p => (string)p.Attribute("Include")!, p => (string)p.Attribute("Version")!, StringComparer.OrdinalIgnoreCase);
        var references = NotebookRegions.CodeCells(File.ReadAllText(NotebookPath))
            .SelectMany(cell => NuGetReference().Matches(cell))
            .Select(m => (Id: m.Groups["id"].Value, Version: m.Groups["version"].Value))
            .ToList();

        Assert.Equal(
            new[] { "Microsoft.ML", "Microsoft.ML.ImageAnalytics", "Microsoft.ML.OnnxRuntime", "Microsoft.ML.OnnxTransformer", "TorchSharp-cpu" },
            references.Select(r => r.Id).Where(id => id.StartsWith("Microsoft.ML", StringComparison.Ordinal) || id == "TorchSharp-cpu")
                .Order(StringComparer.Ordinal));
        Assert.All(references, r =>
        {
            Assert.True(pinned.TryGetValue(r.Id, out var version), $"the notebook references {r.Id}, which Directory.Packages.props does not pin");
            Assert.True(version == r.Version, $"the notebook references {r.Id} {r.Version}; Directory.Packages.props pins {version}");
        });
    }

    [Fact]
    public void The_committed_notebook_has_no_outputs()
    {
        var root = JsonNode.Parse(File.ReadAllText(NotebookPath))!;
        var codeCells = root["cells"]!.AsArray().Where(c => (string?)c!["cell_type"] == "code").ToList();

        Assert.NotEmpty(codeCells);
        Assert.All(codeCells, c =>
        {
            Assert.Empty(c!["outputs"]!.AsArray());
            Assert.Null(c["execution_count"]);
        });
    }

    [GeneratedRegex(@"^#r ""nuget: (?<id>[^,""]+), (?<version>[^""]+)""", RegexOptions.Multiline)]
    private static partial Regex NuGetReference();

    [Fact]
    public void A_changed_token_in_a_notebook_cell_is_reported()
    {
        var sample = NotebookRegions.FromSample(SampleFolder);
        var json = JsonNode.Parse(File.ReadAllText(NotebookPath))!;
        var trainCell = json["cells"]!.AsArray().First(c => CellText(c!).Contains("<notebook:train>", StringComparison.Ordinal))!;
        string changed = CellText(trainCell).Replace("Epochs = epochs,", "Epochs = epochs * 2,", StringComparison.Ordinal);
        Assert.NotEqual(CellText(trainCell), changed);
        trainCell["source"] = new JsonArray(new JsonNode[] { JsonValue.Create(changed)! });

        var differences = NotebookRegions.Differences(sample, NotebookRegions.FromNotebook(json.ToJsonString(), "edited"));

        var line = Assert.Single(differences);
        Assert.Contains("region 'train' differs", line);
        Assert.Contains("epochs * 2", line);
    }

    [Fact]
    public void A_changed_sample_region_or_a_missing_cell_is_reported()
    {
        var notebook = NotebookRegions.FromNotebook(File.ReadAllText(NotebookPath), NotebookPath);
        var sample = new Dictionary<string, string>(NotebookRegions.FromSample(SampleFolder));
        string evaluate = sample["evaluate"];
        sample["evaluate"] = evaluate.Replace("Math.Min(5,", "Math.Min(3,", StringComparison.Ordinal);
        Assert.NotEqual(evaluate, sample["evaluate"]);
        sample["extra"] = "var x = 1;";
        notebook.Remove("predict");

        var differences = NotebookRegions.Differences(sample, notebook);

        Assert.Equal(3, differences.Count);
        Assert.Contains(differences, d => d.StartsWith("region 'evaluate' differs", StringComparison.Ordinal));
        Assert.Contains(differences, d => d == "region 'extra' is in the sample but in no notebook cell");
        Assert.Contains(differences, d => d == "region 'predict' is in the sample but in no notebook cell");
    }

    [Fact]
    public void Whitespace_and_indentation_do_not_count_but_unbalanced_markers_do()
    {
        var a = NotebookRegions.Extract("x\n    // <notebook:a>\n    var y =   1;\n\n    // </notebook:a>\n", "a");
        var b = NotebookRegions.Extract("// <notebook:a>\nvar y = 1;\n// </notebook:a>", "b");
        Assert.Equal("var y = 1;", a["a"]);
        Assert.Equal(a, b);
        var e = Assert.Throws<InvalidDataException>(() => NotebookRegions.Extract("// <notebook:a>\nvar y = 1;\n// </notebook:b>", "broken.cs"));
        Assert.Contains("broken.cs", e.Message);
    }

    static string CellText(JsonNode cell) => cell["source"] is JsonArray lines
        ? string.Concat(lines.Select(l => (string?)l))
        : (string?)cell["source"] ?? "";
}

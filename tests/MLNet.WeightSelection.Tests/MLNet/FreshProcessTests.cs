using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>
/// Save → load → score in a fresh process that never trained: the ScoringProbe program references ML.NET and ONNX
/// Runtime only (not this library, not TorchSharp), loads model.zip and scores through a PredictionEngine.
/// </summary>
[Collection(nameof(MLNetFits))]
public class FreshProcessTests
{
    readonly FittedModelFixture _f;

    public FreshProcessTests(FittedModelFixture fixture) => _f = fixture;

    [Fact]
    public void Loaded_model_scores_identically_in_a_fresh_process_without_libtorch()
    {
        string folder = TestPaths.NewTempDirectory();
        string model = Path.Combine(folder, "model.zip");
        _f.Ml.Model.Save(_f.Model, _f.Data.Schema, model);
        string rows = Path.Combine(folder, "rows.csv");
        File.WriteAllLines(rows, _f.Rows.Select(r => $"{r.ImagePath},{r.Label}"));
        string output = Path.Combine(folder, "scores.txt");

        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { TestPaths.BuiltAssembly(Path.Combine("tests", "MLNet.WeightSelection.ScoringProbe"), "MLNet.WeightSelection.ScoringProbe.dll"), model, _f.Folder, rows, output }) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        string stderr = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "The probe did not finish in 2 minutes.");
        Assert.True(process.ExitCode == 0, $"The probe failed ({process.ExitCode}): {stderr}");

        var lines = File.ReadAllLines(output);
        Assert.Equal("libtorch-loaded: false", lines[^2]);
        Assert.Equal("onnxruntime-loaded: true", lines[^1]);

        var expected = _f.Model.Transform(_f.Data);
        var scores = expected.GetColumn<float[]>("Score").ToArray();
        var names = expected.GetColumn<string>("PredictedLabel").ToArray();
        Assert.Equal(scores.Length, lines.Length - 2);
        for (int i = 0; i < scores.Length; i++)
        {
            var parts = lines[i].Split(" | ");
            var fresh = parts[0].Split(' ').Select(s => float.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(scores[i], fresh);
            Assert.Equal(names[i], parts[1]);
        }
    }
}

using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Tests.Onnx;
using Xunit;

namespace MLNet.WeightSelection.Tests.Cli;

/// <summary><c>ws inspect</c> in-process: counts, family and preset of real files; the list is cut unless --all.</summary>
public class InspectCommandTests
{
    [Theory]
    [MemberData(nameof(GoldenCases.Names), MemberType = typeof(GoldenCases))]
    public void InspectPrintsKeyCountParametersAndFamily(string name)
    {
        var golden = GoldenCases.Get(name);
        using var file = SafeTensorsFile.Open(golden.Teacher);
        long parameters = file.Keys.Select(file.GetInfo)
            .Where(t => !t.Name.EndsWith(".running_mean") && !t.Name.EndsWith(".running_var") && !t.Name.EndsWith(".num_batches_tracked"))
            .Sum(t => t.ElementCount);

        var run = Ws.Run("inspect", golden.Teacher);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"Tensors: {file.Keys.Count}\n", run.Out.ReplaceLineEndings("\n"));
        Assert.Contains($"Parameters: {parameters:N0}", run.Out);
        Assert.Contains($"Family: {golden.Family}\n", run.Out.ReplaceLineEndings("\n"));
        Assert.Contains("Preset: none", run.Out);
        // 30 rows by default, then a note on how many were left out.
        Assert.Contains($"... {file.Keys.Count - 30} more tensors", run.Out);
        Assert.Contains(file.Keys[0], run.Out);
        Assert.DoesNotContain(file.Keys[^1] + " ", run.Out);

        var all = Ws.Run("inspect", golden.Teacher, "--all");
        Assert.Equal(0, all.ExitCode);
        Assert.All(file.Keys, k => Assert.Contains(k, all.Out));
        Assert.DoesNotContain("more tensors", all.Out);
    }

    [Fact]
    public void InspectFindsThePresetAndTheClassifierSize()
    {
        string dir = TestPaths.NewTempDirectory();
        string path = Path.Combine(dir, "resnet10.safetensors");
        using (var model = ModelRegistry.Create("resnet10", numClasses: 7))
        using (var state = StateDict.FromModule(model))
            SafeTensorsWriter.Save(path, state);

        var run = Ws.Run("inspect", path, "--limit", "3");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Family: resnet", run.Out);
        Assert.Contains("Preset: resnet10 (num_classes 7)", run.Out);
        Assert.Contains("more tensors", run.Out);
    }

    [Fact]
    public void InspectImportsMlNetsOnnxResNet18UnderTimmsNames()
    {
        var run = Ws.Run("inspect", Resnet18Files.Model, "--all");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Format: ONNX (imported)", run.Out);
        Assert.Contains("Family: resnet", run.Out);
        // CNTK's "ResNet-18" has three blocks in its last stage ([2, 2, 2, 3]), so timm's resnet18 does not match it.
        Assert.Contains("Preset: none", run.Out);
        Assert.Contains("layer4.2.conv2.weight", run.Out);
        Assert.Contains("Input: Bgr", run.Out);
        Assert.Contains("Note: No classifier", run.Out);
        Assert.Contains("conv1.weight", run.Out);
    }

    [Fact]
    public void InspectOfAMissingOrCorruptFileIsAOneLineError()
    {
        string dir = TestPaths.NewTempDirectory();
        var missing = Ws.Run("inspect", Path.Combine(dir, "none.safetensors"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Single(missing.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("none.safetensors", missing.Error);

        string corrupt = Path.Combine(dir, "corrupt.safetensors");
        File.WriteAllBytes(corrupt, new byte[] { 200, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'"' });
        var bad = Ws.Run("inspect", corrupt);
        Assert.Equal(1, bad.ExitCode);
        var line = Assert.Single(bad.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("ws inspect: error:", line);
        Assert.Contains("corrupt.safetensors", line);
        Assert.DoesNotContain("unexpected", line);
    }
}

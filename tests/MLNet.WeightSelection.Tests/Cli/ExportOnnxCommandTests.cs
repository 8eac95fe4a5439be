using System.Text.Json.Nodes;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Tests.Onnx;
using Xunit;

namespace MLNet.WeightSelection.Tests.Cli;

/// <summary><c>ws export-onnx</c> writes a graph ONNX Runtime runs, giving timm's own outputs on the golden inputs.</summary>
public class ExportOnnxCommandTests
{
    [Theory]
    [InlineData("vit_s_to_t_mini")]
    [InlineData("resnet_basic_mini")]
    [InlineData("efficientnet_mini")]
    [InlineData("swin_mini")]
    public void ExportedGoldenStudentReproducesTimmsLogitsInOnnxRuntime(string name)
    {
        var golden = GoldenCases.Get(name);
        // The golden inputs are already normalized: an identity convention feeds them to the graph unchanged.
        var spec = JsonNode.Parse(golden.StudentSpec)!.AsObject();
        spec["pretrained_cfg"] = JsonNode.Parse("{\"mean\": [0, 0, 0], \"std\": [1, 1, 1], \"scale\": 1}");
        string dir = TestPaths.NewTempDirectory();
        string output = Path.Combine(dir, "student.onnx");

        var run = Ws.Run("export-onnx", "--checkpoint", golden.Student, "--spec", spec.ToJsonString(), "--out", output, "--image-size", "32");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("probabilities", run.Out);
        using var io = SafeTensorsFile.Open(TestPaths.GoldenFile($"{name}.io.safetensors"));
        using var x = io.Read("x");
        using var logits = io.Read("student_logits");
        using var expected = logits.softmax(1);
        var outputs = OnnxRuntimeRunner.Run(output, "input", x.data<float>().ToArray(), 2, 3, 32, 32);
        var (probabilities, shape) = outputs["probabilities"];
        Assert.Equal(new[] { 2, golden.NumClasses }, shape);
        var want = expected.data<float>().ToArray();
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - probabilities[i]) < 1e-4, $"probability {i}: ONNX {probabilities[i]}, timm {want[i]}");
        Assert.True(outputs.ContainsKey("features"));
    }

    [Fact]
    public void SelectOutputWithoutClassifierIsRefusedAndNothingIsWritten()
    {
        var golden = GoldenCases.Get("resnet_basic_mini");
        string dir = TestPaths.NewTempDirectory();
        string selected = Path.Combine(dir, "selected.safetensors");
        Assert.Equal(0, Ws.Run("select", "--teacher", golden.Teacher, "--student-spec", golden.StudentSpec, "--out", selected).ExitCode);

        var run = Ws.Run("export-onnx", "--checkpoint", selected, "--spec", golden.StudentSpec, "--out", Path.Combine(dir, "s.onnx"));

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("fc.weight", line);
        Assert.False(File.Exists(Path.Combine(dir, "s.onnx")));
        Assert.Single(Directory.GetFiles(dir));
    }

    [Fact]
    public void CheckpointThatDoesNotFitTheSpecIsAOneLineError()
    {
        var golden = GoldenCases.Get("resnet_basic_mini");
        string dir = TestPaths.NewTempDirectory();
        // The teacher's weights against the student's architecture.
        var run = Ws.Run("export-onnx", "--checkpoint", golden.Teacher, "--spec", golden.StudentSpec, "--out", Path.Combine(dir, "s.onnx"));

        Assert.Equal(1, run.ExitCode);
        Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("unexpected keys: layer1.1.", run.Error);
        Assert.Empty(Directory.GetFiles(dir));
    }
}

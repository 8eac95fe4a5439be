using MLNet.WeightSelection.Tests.MLNet;
using MLNet.WeightSelection.Tests.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.Cli;

/// <summary>
/// <c>ws train</c> checks what its end needs before it reads an image: its --data here is an empty folder, so an error
/// about anything but the data shows the check came first. Each refusal is one line and leaves nothing on disk.
/// </summary>
[Collection(nameof(GlobalTorchState))]
public class TrainPreflightCommandTests
{
    static WsResult Train(string data, string output, params string[] more)
    {
        var golden = GoldenCases.Get("resnet_basic_mini");
        return Ws.Run(new[]
        {
            "train", "--data", data, "--teacher", golden.Teacher, "--teacher-arch", golden.TeacherSpec, "--student", golden.StudentSpec,
            "--out", output,
        }.Concat(more).ToArray());
    }

    static void AssertOneLine(WsResult run, string expected)
    {
        Assert.Equal(1, run.ExitCode);
        Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, run.Error);
        Assert.DoesNotContain("class subfolders", run.Error);
    }

    [Fact]
    public void An_out_folder_that_cannot_be_created_is_refused_before_reading_images()
    {
        using var tmp = new TempFolder();
        string file = tmp.File("a-file");
        File.WriteAllText(file, "");

        var under = Train(tmp.Path, Path.Combine(file, "run"));
        AssertOneLine(under, $"--out '{Path.Combine(file, "run")}' cannot be created: '{file}' is a file.");

        var itself = Train(tmp.Path, file);
        AssertOneLine(itself, $"--out '{file}' is a file; give a folder.");
        Assert.Equal(new[] { file }, Directory.GetFileSystemEntries(tmp.Path));
    }

    [Theory]
    [InlineData("--checkpoint-dir")]
    [InlineData("--pixel-cache")]
    public void A_folder_that_cannot_be_created_is_refused_before_reading_images(string option)
    {
        using var tmp = new TempFolder();
        string file = tmp.File("a-file");
        File.WriteAllText(file, "");
        string folder = Path.Combine(file, "under-a-file");

        var run = Train(tmp.Path, tmp.File("run"), option, folder);

        AssertOneLine(run, $"{option} '{folder}' cannot be created: '{file}' is a file.");
        Assert.False(Directory.Exists(tmp.File("run")));
    }

    [Fact]
    public void A_missing_onnx_runtime_is_refused_before_reading_images()
    {
        using var tmp = new TempFolder();
        WsResult run;
        using (new MissingNativeLibrary())
            run = Train(tmp.Path, tmp.File("run"));

        AssertOneLine(run, "ONNX Runtime's native library (onnxruntime) cannot be loaded on");
        Assert.Contains("Install a ws package that carries it for this platform", run.Error);
        Assert.Contains(MissingNativeLibrary.Name, run.Error);
        Assert.False(Directory.Exists(tmp.File("run")));

        // With ONNX Runtime present the same command gets as far as the (empty) data.
        Assert.Contains("class subfolders", Train(tmp.Path, tmp.File("run")).Error);
    }
}

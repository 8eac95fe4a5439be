using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Tests.MLNet;
using MLNet.WeightSelection.Tests.Onnx;
using MLNet.WeightSelection.Tests.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.Cli;

/// <summary>
/// <c>ws train</c> and <c>ws evaluate</c> end to end on a tiny generated image folder (16-px PNGs, one epoch) with the
/// golden ResNet teacher: every output is written, model.zip reloads in ML.NET and evaluates to the same numbers,
/// student.onnx runs in ONNX Runtime. Training reads libtorch's global state, hence the non-parallel collection.
/// </summary>
[Collection(nameof(GlobalTorchState))]
public class TrainEvaluateCommandTests
{
    static string ImageFolderWithSplits(int trainPerClass, int testPerClass) =>
        TinyImageFolder.Write(TestPaths.NewTempDirectory(), trainPerClass, testPerClass);

    [Fact]
    public void TrainWritesEveryOutputAndEvaluateReproducesItsTestMetrics()
    {
        var golden = GoldenCases.Get("resnet_basic_mini");
        string data = ImageFolderWithSplits(trainPerClass: 4, testPerClass: 2);
        string output = Path.Combine(TestPaths.NewTempDirectory(), "run");

        var train = Ws.Run("train", "--data", data, "--teacher", golden.Teacher, "--teacher-arch", golden.TeacherSpec,
            "--student", golden.StudentSpec, "--epochs", "1", "--image-size", "16", "--batch-size", "6", "--threads", "2", "--out", output);

        Assert.True(train.ExitCode == 0, train.ToString());
        Assert.Contains("Data: 12 training and 6 test images, 3 classes.", train.Out);
        Assert.Contains("epoch 1/1", train.Out);
        Assert.Contains("weight selection", train.Out);
        foreach (var file in new[] { "model.zip", "student.onnx", "student.safetensors", "student.json", "selection-report.json" })
            Assert.True(File.Exists(Path.Combine(output, file)), $"{file} was not written");
        Assert.Empty(Directory.GetFiles(output, "*.partial*"));
        using (var weights = SafeTensorsFile.Open(Path.Combine(output, "student.safetensors")))
            Assert.Equal(new long[] { 3, 64 }, weights.GetInfo("fc.weight").Shape);
        var onnx = OnnxRuntimeRunner.Run(Path.Combine(output, "student.onnx"), "input", new float[3 * 16 * 16], 1, 3, 16, 16);
        Assert.Equal(1f, onnx["probabilities"].Data.Sum(), 3);

        var evaluate = Ws.Run("evaluate", "--model", Path.Combine(output, "model.zip"), "--data", data);

        Assert.True(evaluate.ExitCode == 0, evaluate.ToString());
        Assert.Contains("Images: 6", evaluate.Out);
        Assert.Contains("true \\ predicted", evaluate.Out);
        foreach (var colour in TestImages.ColourNames) Assert.Contains(colour, evaluate.Out);
        // The reloaded model.zip scores exactly as the model train evaluated in memory.
        Assert.Equal(Line(train.Out, "Accuracy:"), Line(evaluate.Out, "Accuracy:"));
        Assert.Equal(Line(train.Out, "Log-loss:"), Line(evaluate.Out, "Log-loss:"));
    }

    [Fact]
    public void RandomInitTrainsWithoutTeacherAndTakesATestSplitWhenThereIsNoTestFolder()
    {
        var golden = GoldenCases.Get("resnet_basic_mini");
        // Class folders straight under --data: no train/ and no test/.
        string data = Path.Combine(ImageFolderWithSplits(trainPerClass: 5, testPerClass: 0), "train");
        string output = Path.Combine(TestPaths.NewTempDirectory(), "run");

        var train = Ws.Run("train", "--data", data, "--init", "random", "--student", golden.StudentSpec, "--epochs", "1",
            "--image-size", "16", "--batch-size", "8", "--threads", "2", "--no-augmentation", "--test-fraction", "0.2", "--out", output);

        Assert.True(train.ExitCode == 0, train.ToString());
        Assert.Contains("holding out 3 of 15 images as the test split", train.Out);
        Assert.Contains("Data: 12 training and 3 test images, 3 classes.", train.Out);
        Assert.Contains("random", train.Out);
        Assert.True(File.Exists(Path.Combine(output, "model.zip")));
        Assert.False(File.Exists(Path.Combine(output, "selection-report.json")), "a random-init run has no selection report");
    }

    [Fact]
    public void TrainRejectsBadInputWithOneLineAndWritesNothing()
    {
        var golden = GoldenCases.Get("resnet_basic_mini");
        string output = Path.Combine(TestPaths.NewTempDirectory(), "run");
        string empty = TestPaths.NewTempDirectory();

        var noClasses = Ws.Run("train", "--data", empty, "--teacher", golden.Teacher, "--teacher-arch", golden.TeacherSpec,
            "--student", golden.StudentSpec, "--out", output);
        Assert.Equal(1, noClasses.ExitCode);
        Assert.Single(noClasses.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("class subfolders", noClasses.Error);

        var noTeacher = Ws.Run("train", "--data", empty, "--student", golden.StudentSpec, "--out", output);
        Assert.Equal(1, noTeacher.ExitCode);
        Assert.Contains("--teacher is required", noTeacher.Error);

        // Without --teacher-arch the architecture is told from the checkpoint; the golden teacher is no registered preset.
        var noArch = Ws.Run("train", "--data", ImageFolderWithSplits(trainPerClass: 1, testPerClass: 1), "--teacher", golden.Teacher,
            "--student", golden.StudentSpec, "--out", output);
        Assert.Equal(1, noArch.ExitCode);
        Assert.Contains("is a resnet checkpoint, but no registered resnet preset has its keys and shapes", noArch.Error);
        Assert.Contains("--teacher-arch", noArch.Error);

        var missingData = Ws.Run("train", "--data", Path.Combine(empty, "nope"), "--init", "random", "--student", golden.StudentSpec, "--out", output);
        Assert.Equal(1, missingData.ExitCode);
        Assert.Contains("nope", missingData.Error);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void EvaluateRejectsAMissingOrInvalidModel()
    {
        string data = ImageFolderWithSplits(trainPerClass: 1, testPerClass: 1);
        string dir = TestPaths.NewTempDirectory();
        var missing = Ws.Run("evaluate", "--model", Path.Combine(dir, "model.zip"), "--data", data);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("model.zip", missing.Error);

        string junk = Path.Combine(dir, "junk.zip");
        File.WriteAllText(junk, "not a zip");
        var invalid = Ws.Run("evaluate", "--model", junk, "--data", data);
        Assert.Equal(1, invalid.ExitCode);
        Assert.Single(invalid.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("junk.zip", invalid.Error);
    }

    static string Line(string text, string prefix) =>
        text.Split('\n').Select(l => l.TrimEnd('\r')).Single(l => l.StartsWith(prefix, StringComparison.Ordinal));
}

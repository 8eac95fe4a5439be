using ImageClassification;
using Xunit;

namespace MLNet.WeightSelection.Tests.Samples;

public class SampleCommandLineTests
{
    [Fact]
    public void No_arguments_give_the_main_job_defaults()
    {
        var (options, error) = SampleCommandLine.Parse(Array.Empty<string>());

        Assert.Null(error);
        Assert.Equal(new SampleOptions(), options);
        Assert.Equal("resnet18_half", options!.Student);
        Assert.Equal("out", options.OutputDirectory);
        Assert.Null(options.DataDirectory);
        Assert.Null(options.TeacherCheckpoint);
        Assert.Equal(DistillMode.None, options.Distill);
    }

    [Fact]
    public void Every_option_is_read()
    {
        string data = SampleFixtures.ImageFolder(trainPerClass: 1, testPerClass: 1, size: 8);
        string teacher = Path.Combine(TestPaths.NewTempDirectory(), "t.safetensors");
        File.WriteAllBytes(teacher, new byte[] { 0 });

        var (options, error) = SampleCommandLine.Parse(new[]
        {
            "--data", data, "--teacher", teacher, "--teacher-arch", "resnet50", "--student", "resnet26", "--epochs", "3",
            "--image-size", "48", "--distill", "features", "--out", "results", "--seed", "7",
        });

        Assert.Null(error);
        Assert.Equal(new SampleOptions
        {
            DataDirectory = data, TeacherCheckpoint = teacher, TeacherArchitecture = "resnet50", Student = "resnet26", Epochs = 3,
            ImageSize = 48, Distill = DistillMode.Features, OutputDirectory = "results", Seed = 7,
        }, options);
    }

    public static TheoryData<string[], string> BadCommandLines() => new()
    {
        { new[] { "--epochs", "0" }, "--epochs must be between 1 and 100000; got 0" },
        { new[] { "--epochs", "many" }, "--epochs must be an integer; got 'many'" },
        { new[] { "--image-size", "4" }, "--image-size must be between 8 and 1024; got 4" },
        { new[] { "--image-size", "2048" }, "--image-size must be between 8 and 1024; got 2048" },
        { new[] { "--seed", "1.5" }, "--seed must be an integer; got '1.5'" },
        { new[] { "--distill", "attention" }, "attention" },
        { new[] { "--data", "/nonexistent/ws-sample-data" }, "--data folder '/nonexistent/ws-sample-data' does not exist" },
        { new[] { "--teacher", "/nonexistent/t.safetensors", "--teacher-arch", "resnet50" }, "--teacher file '/nonexistent/t.safetensors' does not exist" },
        { new[] { "--teacher-arch", "resnet50" }, "--teacher-arch needs --teacher" },
        { new[] { "--student", " " }, "--student must name an architecture" },
        { new[] { "--bogus" }, "--bogus" },
    };

    [Theory]
    [MemberData(nameof(BadCommandLines))]
    public void Bad_arguments_print_one_line_and_exit_with_the_usage_code(string[] args, string expected)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int code = SampleCommandLine.Run(args, stdout, stderr, interactive: false);

        Assert.Equal(SampleCommandLine.UsageError, code);
        string error = stderr.ToString();
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("ImageClassification: error: ", error);
        Assert.Contains(expected, error);
        Assert.Equal("", stdout.ToString());
    }

    [Fact]
    public void A_checkpoint_that_is_not_onnx_needs_its_architecture()
    {
        string teacher = Path.Combine(TestPaths.NewTempDirectory(), "t.safetensors");
        File.WriteAllBytes(teacher, new byte[] { 0 });

        var (options, error) = SampleCommandLine.Parse(new[] { "--teacher", teacher });

        Assert.Null(options);
        Assert.Contains("is not ONNX, so --teacher-arch must name its architecture", error);
    }

    [Fact]
    public void Help_lists_every_option_and_runs_nothing()
    {
        var stdout = new StringWriter();
        int code = SampleCommandLine.Run(new[] { "--help" }, stdout, new StringWriter(), interactive: false);

        Assert.Equal(0, code);
        foreach (var option in new[] { "--data", "--teacher", "--teacher-arch", "--student", "--epochs", "--image-size", "--distill", "--out", "--seed" })
            Assert.Contains(option, stdout.ToString());
    }

    [Fact]
    public void Failures_during_the_run_are_one_line_with_their_causes()
    {
        var inner = new InvalidDataException("bad PNG\nat row 3");
        var outer = new InvalidOperationException("Splitter worker failed", inner);

        Assert.Equal("Splitter worker failed: bad PNG at row 3", SampleCommandLine.OneLine(outer));
    }
}

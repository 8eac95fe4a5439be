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
        Assert.Equal(SampleOptions.DefaultEpochs, options.Epochs);
        Assert.Null(options.ImageSize);
        Assert.Equal(DistillMode.Fitted, options.Distill);
        Assert.False(options.NoAdaptTeacher);
    }

    [Theory]
    [InlineData("fitted", DistillMode.Fitted)]
    [InlineData("none", DistillMode.None)]
    [InlineData("features", DistillMode.Features)]
    public void Distill_reads_each_mode(string text, DistillMode expected)
    {
        var (options, error) = SampleCommandLine.Parse(new[] { "--distill", text });

        Assert.Null(error);
        Assert.Equal(expected, options!.Distill);
    }

    [Fact]
    public void Distill_logits_with_a_teacher_of_ones_own_is_read()
    {
        string teacher = Path.Combine(TestPaths.NewTempDirectory(), "t.onnx");
        File.WriteAllBytes(teacher, new byte[] { 0 });

        var (options, error) = SampleCommandLine.Parse(new[] { "--teacher", teacher, "--distill", "logits" });

        Assert.Null(error);
        Assert.Equal(DistillMode.Logits, options!.Distill);
    }

    [Fact]
    public void Distill_logits_with_the_default_imagenet_teacher_is_refused_before_any_run()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int code = SampleCommandLine.Run(new[] { "--distill", "logits" }, stdout, stderr, interactive: false);

        Assert.Equal(SampleCommandLine.UsageError, code);
        Assert.Contains("--distill logits applies to both runs", stderr.ToString());
        Assert.Contains("1,000 classes", stderr.ToString());
        Assert.Equal("", stdout.ToString());
    }

    [Fact]
    public void No_adapt_teacher_is_a_switch()
    {
        var (options, error) = SampleCommandLine.Parse(new[] { "--no-adapt-teacher" });

        Assert.Null(error);
        Assert.True(options!.NoAdaptTeacher);
        Assert.Equal(new SampleOptions { NoAdaptTeacher = true }, options);
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
            "--image-size", "48", "--distill", "features", "--no-adapt-teacher", "--out", "results", "--seed", "7",
        });

        Assert.Null(error);
        Assert.Equal(new SampleOptions
        {
            DataDirectory = data, TeacherCheckpoint = teacher, TeacherArchitecture = "resnet50", Student = "resnet26", Epochs = 3,
            ImageSize = 48, Distill = DistillMode.Features, NoAdaptTeacher = true, OutputDirectory = "results", Seed = 7,
        }, options);
    }

    public static TheoryData<string[], string> BadCommandLines() => new()
    {
        { new[] { "--epochs", "0" }, "--epochs must be between 1 and 100000; got 0" },
        { new[] { "--epochs", "many" }, "--epochs must be an integer; got 'many'" },
        { new[] { "--image-size", "4" }, "--image-size must be between 8 and 1024; got 4" },
        { new[] { "--image-size", "2048" }, "--image-size must be between 8 and 1024; got 2048" },
        { new[] { "--image-size", "big" }, "--image-size must be an integer; got 'big'" },
        { new[] { "--no-adapt-teacher", "yes-please" }, "yes-please" },
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
        string help = stdout.ToString();
        foreach (var option in new[] { "--data", "--teacher", "--teacher-arch", "--student", "--epochs", "--image-size", "--distill", "--no-adapt-teacher", "--out", "--seed" })
            Assert.Contains(option, help);
        // The epochs are the sample's cap, not the recipe's choice, and help says so (help wraps long lines).
        string words = string.Join(" ", help.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("fitted recipe would choose more", words);
        Assert.Contains("within 5 minutes on 2 cores", words);
    }

    [Fact]
    public void Failures_during_the_run_are_one_line_with_their_causes()
    {
        var inner = new InvalidDataException("bad PNG\nat row 3");
        var outer = new InvalidOperationException("Splitter worker failed", inner);

        Assert.Equal("Splitter worker failed: bad PNG at row 3", SampleCommandLine.OneLine(outer));
    }
}

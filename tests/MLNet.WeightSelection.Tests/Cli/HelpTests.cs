using Xunit;

namespace MLNet.WeightSelection.Tests.Cli;

/// <summary>Every command answers --help with its usage and options, and exit code 0.</summary>
public class HelpTests
{
    [Theory]
    [InlineData("inspect", "--all")]
    [InlineData("select", "--with-classifier")]
    [InlineData("train", "--distill")]
    [InlineData("evaluate", "--model")]
    [InlineData("export-onnx", "--checkpoint")]
    [InlineData("presets", "--family")]
    public void EveryCommandHasHelp(string command, string option)
    {
        var run = Ws.Run(command, "--help");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"ws {command}", run.Out);
        Assert.Contains("Usage:", run.Out);
        Assert.Contains(option, run.Out);
        Assert.Equal("", run.Error);
    }

    [Fact]
    public void RootHelpListsEveryCommand()
    {
        var run = Ws.Run("--help");
        Assert.Equal(0, run.ExitCode);
        foreach (var command in new[] { "inspect", "select", "train", "evaluate", "export-onnx", "presets" })
            Assert.Contains(command, run.Out);
    }

    [Fact]
    public void UnknownCommandOrOptionIsAUsageError()
    {
        var unknown = Ws.Run("frobnicate");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Single(unknown.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var option = Ws.Run("inspect", "x.safetensors", "--bogus");
        Assert.Equal(2, option.ExitCode);
        Assert.Contains("--bogus", option.Error);
    }
}

using MLNet.WeightSelection.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Cli;

/// <summary><c>ws inspect</c> prints metadata values, cut when long: a value may fill most of a 100 MB header.</summary>
public class InspectMetadataTests
{
    [Fact]
    public void ShortValuesArePrintedWholeAndLongOnesCut()
    {
        using var tmp = new TempFolder();
        string path = tmp.File("meta.safetensors");
        string longValue = string.Concat(Enumerable.Range(0, 1000).Select(i => (char)('a' + i % 26)));
        using (var w = zeros(2, 3))
            SafeTensorsWriter.Save(path, new Dictionary<string, Tensor> { ["w"] = w },
                new Dictionary<string, string> { ["format"] = "pt", ["notes"] = longValue });

        var run = Ws.Run("inspect", path);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Metadata format: pt\n", run.Out.ReplaceLineEndings("\n"));
        string shown = run.Out.ReplaceLineEndings("").Replace(" ", "");
        Assert.Contains(longValue[..200] + "...(1,000characters;thefirst200areshown)", shown);
        Assert.DoesNotContain(longValue[..201], shown);
    }
}

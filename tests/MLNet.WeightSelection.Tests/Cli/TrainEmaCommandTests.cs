using MLNet.WeightSelection.Tests.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.Cli;

/// <summary><c>ws train --ema-decay</c>: the moving average is scored on the validation split and the summary says which weights were kept.</summary>
[Collection(nameof(GlobalTorchState))]
public class TrainEmaCommandTests
{
    static string[] Run(string data, string output, params string[] more)
    {
        var golden = GoldenCases.Get("resnet_basic_mini");
        return new[]
        {
            "train", "--data", data, "--teacher", golden.Teacher, "--teacher-arch", golden.TeacherSpec, "--student", golden.StudentSpec,
            "--image-size", "16", "--batch-size", "6", "--threads", "2", "--no-augmentation", "--no-adapt-teacher", "--out", output,
        }.Concat(more).ToArray();
    }

    static string SummaryValue(string text, string row) =>
        text.Split('\n').Select(l => l.Split('│')).Single(cells => cells.Length == 4 && cells[1].Trim() == row)[2].Trim();

    [Fact]
    public void Ema_decay_reports_the_kept_weights_in_the_summary()
    {
        using var tmp = new TempFolder();
        string data = TinyImageFolder.Write(tmp.File("data"), 4, 2);
        var run = Ws.Run(Run(data, tmp.File("run"), "--epochs", "2", "--ema-decay", "0.9"));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Matches(@"epoch 2/2  loss \d+\.\d{4}  val acc \d+(\.\d+)?%  EMA \d+(\.\d+)?%", run.Out);
        Assert.Matches(@"^(EMA|live) \(epoch 2: EMA \d+(\.\d+)?%, live \d+(\.\d+)?% on the validation split\)$", SummaryValue(run.Out, "weights kept"));
        Assert.Equal("[decay 0.9, warmup power 0.6666666666666666] (set)", SummaryValue(run.Out, "EMA"));
        Assert.True(File.Exists(Path.Combine(tmp.File("run"), "model.zip")));
    }

    [Fact]
    public void A_bad_ema_decay_is_refused_and_help_describes_the_flag()
    {
        using var tmp = new TempFolder();
        var bad = Ws.Run(Run(tmp.File("no-data"), tmp.File("run"), "--ema-decay", "1"));
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--ema-decay must lie in [0, 1); got 1.", bad.Error);

        var help = Ws.Run("train", "--help");
        string text = string.Join(" ", help.Out.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--ema-decay <ema-decay> Decay of the exponential moving average of the weights", text);
        Assert.Contains("kept when it scores better. Default: fitted, on with timm's 0.9998 when there is validation data.", text);
    }
}

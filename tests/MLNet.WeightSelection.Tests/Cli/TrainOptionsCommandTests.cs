using System.Globalization;
using System.Text.RegularExpressions;
using MLNet.WeightSelection.Selection;
using MLNet.WeightSelection.Tests.MLNet;
using MLNet.WeightSelection.Tests.Training;
using TorchSharp;
using Xunit;

namespace MLNet.WeightSelection.Tests.Cli;

/// <summary>
/// The flags that make <c>ws train</c> a full front end of the estimator (early stopping, resume, device, explicit
/// layer map, whole heads, distillation), each driven through the command line on 16-px images and a golden teacher.
/// </summary>
[Collection(nameof(GlobalTorchState))]
public class TrainOptionsCommandTests
{
    /// <summary>train/ and test/ folders of noisy primary-colour PNGs, three classes.</summary>
    static string ColourFolders(TempFolder tmp, int trainPerClass, int testPerClass) =>
        TinyImageFolder.Write(tmp.File("data"), trainPerClass, testPerClass);

    static string[] ResNetRun(string data, string output, params string[] more)
    {
        var golden = GoldenCases.Get("resnet_basic_mini");
        return new[]
        {
            "train", "--data", data, "--teacher", golden.Teacher, "--teacher-arch", golden.TeacherSpec, "--student", golden.StudentSpec,
            "--image-size", "16", "--batch-size", "6", "--threads", "2", "--no-augmentation", "--no-adapt-teacher", "--out", output,
        }.Concat(more).ToArray();
    }

    static string[] VitRun(string data, string output, params string[] more)
    {
        var golden = GoldenCases.Get("vit_s_to_t_mini");
        return new[]
        {
            "train", "--data", data, "--teacher", golden.Teacher, "--teacher-arch", golden.TeacherSpec, "--student", golden.StudentSpec,
            "--image-size", "16", "--batch-size", "6", "--threads", "2", "--no-augmentation", "--epochs", "1", "--out", output,
        }.Concat(more).ToArray();
    }

    /// <summary>The value cell of one row of the summary table ("│ epochs │ 3 of 5 (best 1) │").</summary>
    static string SummaryValue(string text, string row) =>
        text.Split('\n').Select(l => l.Split('│')).Single(cells => cells.Length == 4 && cells[1].Trim() == row)[2].Trim();

    static double EpochLoss(string text, string epoch)
    {
        string line = text.Split('\n').Single(l => l.Contains($"epoch {epoch} ", StringComparison.Ordinal));
        string after = line[(line.IndexOf("loss ", StringComparison.Ordinal) + 5)..];
        return double.Parse(after[..after.IndexOf(' ')], CultureInfo.InvariantCulture);
    }

    static SelectionReport Report(string output) => SelectionReport.FromJson(File.ReadAllText(Path.Combine(output, "selection-report.json")));

    [Fact]
    public void Patience_and_min_delta_stop_training_before_the_last_epoch()
    {
        using var tmp = new TempFolder();
        string data = ColourFolders(tmp, trainPerClass: 4, testPerClass: 2);
        string output = tmp.File("run");

        // A rise of more than 1 (100 points) is impossible, so no epoch after the first counts as better: patience 2
        // ends training after epoch 3 of 5, with epoch 1's weights.
        var run = Ws.Run(ResNetRun(data, output, "--epochs", "5", "--patience", "2", "--min-delta", "1", "--device", "cpu"));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("epoch 3/5", run.Out);
        Assert.DoesNotContain("epoch 4/5", run.Out);
        Assert.Equal("3 of 5 (best 1), stopped early", SummaryValue(run.Out, "epochs trained"));
        Assert.Equal("cpu", SummaryValue(run.Out, "device"));
        Assert.True(File.Exists(Path.Combine(output, "model.zip")));
    }

    [Fact]
    public void Checkpoint_dir_resumes_a_cancelled_run_after_its_last_completed_epoch()
    {
        using var tmp = new TempFolder();
        string data = ColourFolders(tmp, trainPerClass: 4, testPerClass: 2);
        string output = tmp.File("run"), checkpoints = tmp.File("checkpoints");
        var args = ResNetRun(data, output, "--epochs", "2", "--checkpoint-dir", checkpoints);

        var first = Ws.RunUntil("epoch 1/2", args);

        Assert.True(first.ExitCode == 130, first.ToString());
        Assert.Contains($"the last completed epoch is saved in {checkpoints}", first.Error);
        Assert.True(File.Exists(Path.Combine(checkpoints, "training-checkpoint.bin")));
        Assert.False(Directory.Exists(output), "a cancelled run writes no outputs");

        var second = Ws.Run(args);

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.DoesNotContain("epoch 1/2", second.Out);
        Assert.Contains("epoch 2/2", second.Out);
        Assert.Matches($@"^2 of 2 \(best [12]\), resumed from {Regex.Escape(checkpoints)}$", SummaryValue(second.Out, "epochs trained"));
        Assert.True(File.Exists(Path.Combine(output, "model.zip")));

        // The checkpoint belongs to these options: others are refused rather than resumed from.
        var other = Ws.Run(ResNetRun(data, tmp.File("other"), "--epochs", "2", "--lr", "0.01", "--checkpoint-dir", checkpoints));
        Assert.Equal(1, other.ExitCode);
        Assert.Contains("different training setup", other.Error);
        Assert.Contains("LearningRate", other.Error);
    }

    [Fact]
    public void Pixel_cache_keeps_the_decoded_images_and_a_second_run_uses_them_unchanged()
    {
        using var tmp = new TempFolder();
        string data = ColourFolders(tmp, trainPerClass: 4, testPerClass: 2);
        string cache = tmp.File("pixels");

        var first = Ws.Run(ResNetRun(data, tmp.File("run1"), "--epochs", "1", "--pixel-cache", cache));
        Assert.True(first.ExitCode == 0, first.ToString());
        var entry = Directory.GetFiles(cache).OrderBy(f => f, StringComparer.Ordinal).ToArray();
        Assert.Equal(new[] { ".json", ".u8" }, entry.Select(Path.GetExtension));
        var written = entry.Select(File.GetLastWriteTimeUtc).ToArray();

        var second = Ws.Run(ResNetRun(data, tmp.File("run2"), "--epochs", "1", "--pixel-cache", cache));
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(entry, Directory.GetFiles(cache).OrderBy(f => f, StringComparer.Ordinal));
        Assert.Equal(written, entry.Select(File.GetLastWriteTimeUtc)); // read, not written again
    }

    [Fact]
    public void Device_cuda_without_cuda_is_a_clear_error_and_an_unknown_device_does_not_parse()
    {
        using var tmp = new TempFolder();
        string data = ColourFolders(tmp, trainPerClass: 2, testPerClass: 1);
        string output = tmp.File("run");

        var unknown = Ws.Run(ResNetRun(data, output, "--device", "tpu"));
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("--device must be cpu, cuda or cuda:N; got 'tpu'", unknown.Error);

        if (torch.cuda.is_available()) return; // the rest checks a machine without CUDA
        var cuda = Ws.Run(ResNetRun(data, output, "--device", "cuda:0", "--epochs", "1"));
        Assert.Equal(1, cuda.ExitCode);
        Assert.Single(cuda.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Device 'cuda:0' was asked for, but CUDA is not available", cuda.Error);
        Assert.DoesNotContain("epoch 1/1", cuda.Out);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Layer_map_picks_the_named_teacher_layers_and_shows_in_the_selection_report()
    {
        using var tmp = new TempFolder();
        string data = ColourFolders(tmp, trainPerClass: 2, testPerClass: 1);
        string output = tmp.File("run");

        var run = Ws.Run(VitRun(data, output, "--layer-map", "blocks=1,3"));

        Assert.True(run.ExitCode == 0, run.ToString());
        var report = Report(output);
        Assert.Equal("explicit(blocks: 1,3; otherwise first-n)", report.LayerSelection);
        Assert.Equal(new[] { 1, 3 }, report.Layers.Single(l => l.Group == "blocks").TeacherIndices);
        Assert.Equal("blocks.1.attn.qkv.weight", report.Row("blocks.0.attn.qkv.weight").TeacherKey);
        Assert.Equal("blocks.3.mlp.fc2.weight", report.Row("blocks.1.mlp.fc2.weight").TeacherKey);
        Assert.Contains("layers explicit(blocks: 1,3; otherwise first-n)", SummaryValue(run.Out, "initialization"));
    }

    [Theory]
    [InlineData("blocks=0,9", "teacher layer 9")]
    [InlineData("block=0,1", "layer group 'block', which the student does not have")]
    [InlineData("blocks", "expected GROUP=I,J,...")]
    [InlineData("blocks=0,x", "'x' is not a teacher layer number")]
    public void A_bad_layer_map_is_refused_before_training(string map, string expected)
    {
        using var tmp = new TempFolder();
        string data = ColourFolders(tmp, trainPerClass: 2, testPerClass: 1);
        string output = tmp.File("run");

        var run = Ws.Run(VitRun(data, output, "--layer-map", map));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(expected, run.Error);
        Assert.DoesNotContain("epoch 1/1", run.Out);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Whole_heads_select_whole_teacher_heads_and_are_refused_where_they_cannot_apply()
    {
        using var tmp = new TempFolder();
        string data = ColourFolders(tmp, trainPerClass: 2, testPerClass: 1);
        string output = tmp.File("run");

        var run = Ws.Run(VitRun(data, output, "--whole-heads"));

        Assert.True(run.ExitCode == 0, run.ToString());
        var report = Report(output);
        Assert.True(report.WholeHeads);
        // Teacher 4 heads of 16, student 2 heads of 16: each student head is a whole teacher head.
        var attention = report.Widths.Where(w => w.Name.Contains("attn", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(attention);
        foreach (var head in attention.SelectMany(w => w.Indices!.Chunk(16)))
            Assert.Equal(Enumerable.Range((int)head[0], 16).Select(i => (long)i), head);
        Assert.Contains("whole heads", SummaryValue(run.Out, "initialization"));

        var resnet = Ws.Run(ResNetRun(data, tmp.File("resnet"), "--whole-heads", "--epochs", "1"));
        Assert.Equal(1, resnet.ExitCode);
        Assert.Contains("only a ViT has", resnet.Error);
        Assert.False(Directory.Exists(tmp.File("resnet")));

        var random = Ws.Run(VitRun(data, tmp.File("random"), "--whole-heads", "--init", "random"));
        Assert.Equal(1, random.ExitCode);
        Assert.Contains("--whole-heads chooses teacher heads for weight selection, which --init random skips", random.Error);
    }

    [Fact]
    public void Distill_alpha_weighs_the_feature_distillation_term_in_the_loss()
    {
        using var tmp = new TempFolder();
        string data = ColourFolders(tmp, trainPerClass: 2, testPerClass: 1);

        var without = Ws.Run(ResNetRun(data, tmp.File("alpha0"), "--epochs", "1", "--distill", "features", "--distill-alpha", "0"));
        var with = Ws.Run(ResNetRun(data, tmp.File("alpha5"), "--epochs", "1", "--distill", "features", "--distill-alpha", "5"));

        Assert.True(without.ExitCode == 0, without.ToString());
        Assert.True(with.ExitCode == 0, with.ToString());
        Assert.Equal("Features(alpha=0) (set)", SummaryValue(without.Out, "distillation"));
        Assert.Equal("Features(alpha=5) (set)", SummaryValue(with.Out, "distillation"));
        // The same batches and start; only the weighted L1 term to the teacher's features differs.
        Assert.True(EpochLoss(with.Out, "1/1") > EpochLoss(without.Out, "1/1") + 0.1,
            $"loss with alpha 5: {EpochLoss(with.Out, "1/1")}, with alpha 0: {EpochLoss(without.Out, "1/1")}");
    }

    [Fact]
    public void Logit_distillation_takes_alpha_and_temperature_and_needs_a_teacher_with_the_labels_classes()
    {
        using var tmp = new TempFolder();
        string data = ColourFolders(tmp, trainPerClass: 2, testPerClass: 1);
        var teacherSpec = TinyModels.Teacher(classes: 3);
        string teacher = TinyModels.SaveTeacher(tmp.Path, teacherSpec);

        var run = Ws.Run("train", "--data", data, "--teacher", teacher, "--teacher-arch", teacherSpec.ToJson(), "--student", TinyModels.Student().ToJson(),
            "--image-size", "16", "--batch-size", "6", "--threads", "2", "--no-augmentation", "--epochs", "1", "--out", tmp.File("run"),
            "--distill", "logits", "--distill-alpha", "0.5", "--distill-temperature", "2");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("Logits(alpha=0.5, T=2) (set)", SummaryValue(run.Out, "distillation"));

        // Without adaptation the golden teacher's classifier keeps its 10 classes, the data has 3: refused before the first epoch.
        var mismatch = Ws.Run(ResNetRun(data, tmp.File("mismatch"), "--epochs", "1", "--distill", "logits"));
        Assert.Equal(1, mismatch.ExitCode);
        Assert.Contains("label's 3 classes", mismatch.Error);
        Assert.DoesNotContain("epoch 1/1", mismatch.Out);
    }

    [Fact]
    public void Aa_adds_randaugment_from_timms_string_and_a_bad_string_is_refused_before_training()
    {
        using var tmp = new TempFolder();
        string data = ColourFolders(tmp, trainPerClass: 2, testPerClass: 1);

        var run = Ws.Run(ResNetRun(data, tmp.File("run"), "--epochs", "1", "--aa", "rand-m9-mstd0.5-inc1"));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("rand-m9-mstd0.5-mmax10-n2-p0.5-inc1 (set)", SummaryValue(run.Out, "randaugment"));

        var none = Ws.Run(ResNetRun(data, tmp.File("none"), "--epochs", "1", "--aa", "none"));
        Assert.True(none.ExitCode == 0, none.ToString());
        Assert.Equal("off (set)", SummaryValue(none.Out, "randaugment"));

        var bad = Ws.Run(ResNetRun(data, tmp.File("bad"), "--epochs", "1", "--aa", "rand-m9-q3"));
        Assert.Equal(2, bad.ExitCode); // a parse error, like an unknown --device
        Assert.Contains("--aa: RandAugment config 'rand-m9-q3': unknown section 'q'", bad.Error);
        Assert.DoesNotContain("epoch 1/1", bad.Out);
        Assert.False(Directory.Exists(tmp.File("bad")));
    }

    [Theory]
    [InlineData("--distill-alpha", "2", "--distill-alpha weighs distillation; give --distill logits or features too.")]
    [InlineData("--distill-temperature", "2", "--distill-temperature applies to logit distillation; give --distill logits too.")]
    [InlineData("--min-delta", "0.1", "--min-delta applies to early stopping; give --patience too.")]
    [InlineData("--patience", "0", "--patience must be at least 1; got 0.")]
    public void A_flag_without_the_flag_it_modifies_is_refused(string flag, string value, string expected)
    {
        using var tmp = new TempFolder();
        var run = Ws.Run(ResNetRun(tmp.File("no-data"), tmp.File("run"), flag, value));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains(expected, run.Error);
    }

    [Fact]
    public void Help_lists_every_flag_with_its_default()
    {
        var help = Ws.Run("train", "--help");
        Assert.Equal(0, help.ExitCode);
        string text = string.Join(" ", help.Out.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries));
        foreach (var expected in new[]
        {
            "--patience <patience> Early stopping", "Default: off (train every epoch).",
            "--min-delta <min-delta>", "Needs --patience. [default: 0]",
            "--checkpoint-dir <checkpoint-dir>", "Default: none (nothing kept).",
            "--pixel-cache <pixel-cache>", "Default: none (decode on every run).",
            "--device <device>", "[default: cpu]",
            "--layer-map <layer-map>", "follow --layers. Default: none.",
            "--whole-heads", "Default: off",
            "--distill-alpha <distill-alpha>", "Needs --distill logits or features. [default: 1]",
            "--distill-temperature <distill-temperature>", "Needs --distill logits. [default: 1]",
        })
            Assert.Contains(expected, text);
    }
}

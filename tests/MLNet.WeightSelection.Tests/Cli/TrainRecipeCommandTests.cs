using System.Globalization;
using System.Text.RegularExpressions;
using MLNet.WeightSelection.Tests.Training;
using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.Cli;

/// <summary>
/// <c>ws train</c> with the recipe fitted to the data: unset flags are fitted and printed with their reason, the
/// flags that turn parts of it off or set them win, validation is held out of the training split (never the test
/// split), and combinations that cannot apply are refused before any image is read.
/// </summary>
[Collection(nameof(GlobalTorchState))]
public class TrainRecipeCommandTests
{
    static string[] Run(string data, string output, params string[] more)
    {
        var golden = GoldenCases.Get("resnet_basic_mini");
        return new[]
        {
            "train", "--data", data, "--teacher", golden.Teacher, "--teacher-arch", golden.TeacherSpec, "--student", golden.StudentSpec,
            "--image-size", "16", "--threads", "2", "--out", output,
        }.Concat(more).ToArray();
    }

    /// <summary>The value cell of a summary row, with the lines it wrapped onto joined.</summary>
    static string SummaryValue(string text, string row)
    {
        var rows = text.Split('\n').Select(l => l.Split('│')).Where(cells => cells.Length == 4).ToList();
        int at = rows.FindIndex(cells => cells[1].Trim() == row);
        Assert.True(at >= 0, $"no summary row '{row}' in:\n{text}");
        var parts = new List<string> { rows[at][2].Trim() };
        for (int i = at + 1; i < rows.Count && rows[i][1].Trim() == ""; i++) parts.Add(rows[i][2].Trim());
        return string.Join(" ", parts);
    }

    static bool HasRow(string text, string row) =>
        text.Split('\n').Select(l => l.Split('│')).Any(cells => cells.Length == 4 && cells[1].Trim() == row);

    /// <summary>The share of each class <c>ImageTensorDataset.Split</c> holds out: about the fraction, at least one, never all.</summary>
    static int HeldOut(int perClass, double fraction) =>
        Math.Clamp((int)Math.Round(fraction * perClass, MidpointRounding.AwayFromZero), 1, perClass - 1);

    static string G3(double value) => value.ToString("G3", CultureInfo.InvariantCulture);

    [Fact]
    public void The_fitted_recipe_is_printed_and_validation_is_held_out_of_the_training_split_not_the_test_split()
    {
        using var tmp = new TempFolder();
        // 10 training and 4 test images per class: validation (1 per class at 10%) cannot be confused with the test split.
        string data = TinyImageFolder.Write(tmp.File("data"), trainPerClass: 10, testPerClass: 4);
        var run = Ws.Run(Run(data, tmp.File("run"), "--epochs", "2", "--adapt-epochs", "1"));

        Assert.True(run.ExitCode == 0, run.ToString());
        int validation = 3 * HeldOut(10, 0.1), training = 30 - validation;
        Assert.Equal(3, validation);
        Assert.Contains($"Recipe for {training} training images of 3 classes at 16 px:", run.Out);
        Assert.Equal($"{validation} images held out of the training split (10.00% of each class), {training} left to train on",
            SummaryValue(run.Out, "validation"));
        Assert.Contains("Images: 12", run.Out); // the test split is scored whole at the end

        int batch = TrainingRecipe.BatchSize(training);
        Assert.StartsWith($"{batch} (fitted: ", SummaryValue(run.Out, "batch size"));
        Assert.Equal("2 (set)", SummaryValue(run.Out, "epochs"));
        Assert.Equal("16 (set)", SummaryValue(run.Out, "image size"));
        Assert.StartsWith($"{G3(TrainingRecipe.LearningRate(batch))} (fitted: ", SummaryValue(run.Out, "learning rate"));
        Assert.Equal($"1 epoch at lr {G3(TrainingRecipe.LearningRate(batch) / 2)} (set)", SummaryValue(run.Out, "teacher adaptation"));
        Assert.Equal("Logits(alpha=1, T=1) (fitted: logits of the adapted teacher)", SummaryValue(run.Out, "distillation"));
        Assert.EndsWith("(fitted: on with validation data)", SummaryValue(run.Out, "EMA"));
        // 16 px is a small image: a translation crop, and no mixing at 9 images per class.
        string augmentation = SummaryValue(run.Out, "augmentation");
        Assert.Contains($"padcrop={16 / 8}", augmentation);
        Assert.Contains("mixup=0 cutmix=0", augmentation);
        Assert.Contains("(fitted: translation crop for small images", augmentation);
        // 9 images per class would get it, but 2 epochs are too short for it.
        Assert.Equal($"off (fitted: off for fewer than {TrainingRecipe.RandAugmentMinEpochs} epochs, where it slows training more than it regularizes)",
            SummaryValue(run.Out, "randaugment"));

        // The teacher was adapted first, shown as its own epochs, and the student selected from it.
        int teacherLine = run.Out.IndexOf("  teacher epoch 1/1  loss ", StringComparison.Ordinal);
        Assert.True(teacherLine >= 0 && teacherLine < run.Out.IndexOf("  epoch 1/2  loss ", StringComparison.Ordinal), run.Out);
        Assert.Matches(@"^1 epochs in \d\d:\d\d:\d\d, final validation accuracy \d+\.\d\d%$", SummaryValue(run.Out, "teacher adaptation run"));
        Assert.Contains("from the adapted teacher", SummaryValue(run.Out, "initialization"));
        Assert.Matches(@"^(EMA|live) \(epoch 2: EMA \d+\.\d\d%, live \d+\.\d\d% on the validation split\)$", SummaryValue(run.Out, "weights kept"));
        Assert.Matches(@"^2 of 2 \(best [12]\)$", SummaryValue(run.Out, "epochs trained"));

        // Validation accuracy is a share of the 3 held-out images, not of the 12 test images.
        foreach (Match m in Regex.Matches(run.Out, @"  epoch \d/2  loss \S+  val acc (\d+\.\d\d)%"))
            Assert.Contains(m.Groups[1].Value, new[] { "0.00", "33.33", "66.67", "100.00" });
    }

    [Fact]
    public void Unset_epochs_are_fitted_and_the_progress_shows_the_fitted_total()
    {
        using var tmp = new TempFolder();
        string data = TinyImageFolder.Write(tmp.File("data"), trainPerClass: 4, testPerClass: 1);
        var golden = GoldenCases.Get("resnet_basic_mini");

        // Cancelled after the first epoch: enough to see the fitted length without training it.
        var run = Ws.RunUntil("  epoch 1/", "train", "--data", data, "--init", "random", "--student", golden.StudentSpec, "--image-size", "16",
            "--threads", "2", "--out", tmp.File("run"));

        int training = 3 * (4 - HeldOut(4, 0.1));
        int epochs = TrainingRecipe.Epochs(training, TrainingRecipe.BatchSize(training));
        Assert.Equal(TrainingRecipe.MaxEpochs, epochs); // 9 images: one step per epoch, so the length is clamped
        Assert.True(run.ExitCode == 130, run.ToString());
        Assert.Contains($"Recipe for {training} training images of 3 classes at 16 px:", run.Out);
        Assert.Contains($"Epochs {epochs},", run.Out);
        Assert.Contains($"  epoch 1/{epochs}  loss ", run.Out);
        Assert.Contains("TeacherAdaptation off, Distillation off", run.Out); // random init: nothing to adapt or distill
        Assert.False(Directory.Exists(tmp.File("run")));
    }

    [Fact]
    public void No_adapt_teacher_and_no_validation_turn_adaptation_distillation_and_ema_off()
    {
        using var tmp = new TempFolder();
        string data = TinyImageFolder.Write(tmp.File("data"), trainPerClass: 3, testPerClass: 1);
        var run = Ws.Run(Run(data, tmp.File("run"), "--epochs", "1", "--no-augmentation", "--no-adapt-teacher", "--validation-fraction", "0"));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Recipe for 9 training images", run.Out);
        Assert.Contains("No validation (--validation-fraction 0)", run.Out);
        Assert.Equal("none (--validation-fraction 0)", SummaryValue(run.Out, "validation"));
        Assert.Equal("off (set)", SummaryValue(run.Out, "teacher adaptation"));
        Assert.Equal("off (fitted: no adapted teacher)", SummaryValue(run.Out, "distillation"));
        Assert.Equal("off (fitted: off without validation data)", SummaryValue(run.Out, "EMA"));
        Assert.StartsWith("[crop=off", SummaryValue(run.Out, "augmentation"));
        Assert.EndsWith("(set)", SummaryValue(run.Out, "augmentation"));
        Assert.DoesNotContain("teacher epoch", run.Out);
        Assert.Contains("  epoch 1/1  loss ", run.Out);
        Assert.Contains("val acc -", run.Out);
        Assert.False(HasRow(run.Out, "teacher adaptation run"));
        Assert.False(HasRow(run.Out, "weights kept"));
        Assert.DoesNotContain("from the adapted teacher", SummaryValue(run.Out, "initialization"));
    }

    [Fact]
    public void No_ema_and_distill_none_win_over_the_fitted_recipe_and_aa_adds_randaugment_to_the_fitted_augmentation()
    {
        using var tmp = new TempFolder();
        string data = TinyImageFolder.Write(tmp.File("data"), trainPerClass: 3, testPerClass: 1);
        var run = Ws.Run(Run(data, tmp.File("run"), "--epochs", "1", "--adapt-epochs", "1", "--no-ema", "--distill", "none",
            "--aa", "rand-m9-mstd0.5-inc1"));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("  teacher epoch 1/1  loss ", run.Out); // the teacher is still adapted, and selected from
        Assert.Equal("off (set)", SummaryValue(run.Out, "EMA"));
        Assert.Equal("off (set)", SummaryValue(run.Out, "distillation"));
        Assert.False(HasRow(run.Out, "weights kept"));
        Assert.DoesNotContain("  EMA ", run.Out.Split('\n').Single(l => l.StartsWith("  epoch 1/1", StringComparison.Ordinal)));
        Assert.Equal("rand-m9-mstd0.5-mmax10-n2-p0.5-inc1 (set)", SummaryValue(run.Out, "randaugment"));
        // The rest of the augmentation is still the fitted one; RandAugment is on top of it, in its own row.
        string augmentation = SummaryValue(run.Out, "augmentation");
        Assert.Contains("padcrop=2", augmentation);
        Assert.Contains("(fitted: ", augmentation);
        Assert.DoesNotContain("randaug=", augmentation);
    }

    [Fact]
    public void A_run_cancelled_during_the_teachers_adaptation_resumes_it_from_the_checkpoint_dir()
    {
        using var tmp = new TempFolder();
        string data = TinyImageFolder.Write(tmp.File("data"), trainPerClass: 3, testPerClass: 1);
        string checkpoints = tmp.File("checkpoints");
        var args = Run(data, tmp.File("run"), "--epochs", "1", "--adapt-epochs", "2", "--no-augmentation", "--checkpoint-dir", checkpoints);

        var first = Ws.RunUntil("teacher epoch 1/2", args);

        Assert.True(first.ExitCode == 130, first.ToString());
        Assert.Contains($"the last completed epoch is saved in {checkpoints}", first.Error);
        Assert.False(Directory.Exists(tmp.File("run")), "a cancelled run writes no outputs");

        var second = Ws.Run(args);

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.DoesNotContain("teacher epoch 1/2", second.Out);
        Assert.Contains("  teacher epoch 2/2  loss ", second.Out);
        Assert.Matches(@"^2 epochs in \d\d:\d\d:\d\d, final validation accuracy \d+\.\d\d%, resumed$", SummaryValue(second.Out, "teacher adaptation run"));
        Assert.True(File.Exists(Path.Combine(tmp.File("run"), "model.zip")));
    }

    [Theory]
    [InlineData(new[] { "--adapt-epochs", "1", "--init", "random" }, "--adapt-epochs sets the adaptation of the teacher the student is selected from, which --init random skips.")]
    [InlineData(new[] { "--adapt-epochs", "1", "--no-adapt-teacher" }, "--adapt-epochs sets the teacher adaptation that --no-adapt-teacher turns off; give one of them.")]
    [InlineData(new[] { "--no-adapt-teacher", "--init", "random" }, "--no-adapt-teacher applies to weight selection; with --init random no teacher is adapted.")]
    [InlineData(new[] { "--adapt-epochs", "0" }, "--adapt-epochs must be at least 1; got 0.")]
    [InlineData(new[] { "--ema-decay", "0.9", "--no-ema" }, "--ema-decay sets the EMA that --no-ema turns off; give one of them.")]
    [InlineData(new[] { "--ema-decay", "0.9", "--validation-fraction", "0" }, "--ema-decay needs validation data to choose between the EMA and the live weights, but --validation-fraction is 0.")]
    [InlineData(new[] { "--validation-fraction", "1" }, "--validation-fraction must lie in [0, 1); got 1.")]
    [InlineData(new[] { "--warmup-epochs", "-1" }, "--warmup-epochs must be finite and at least 0; got -1.")]
    [InlineData(new[] { "--epochs", "0" }, "--epochs must be at least 1; got 0.")]
    [InlineData(new[] { "--distill", "none", "--distill-alpha", "2" }, "--distill-alpha weighs distillation; give --distill logits or features too.")]
    public void Combinations_that_cannot_apply_are_refused_before_reading_images(string[] flags, string expected)
    {
        using var tmp = new TempFolder();
        var run = Ws.Run(Run(tmp.File("no-data"), tmp.File("run"), flags));
        Assert.Equal(1, run.ExitCode);
        Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, run.Error);
        Assert.False(Directory.Exists(tmp.File("run")));
    }

    [Fact]
    public void Help_says_which_flags_are_fitted_and_how_to_turn_parts_off()
    {
        var help = Ws.Run("train", "--help");
        Assert.Equal(0, help.ExitCode);
        string text = string.Join(" ", help.Out.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries));
        foreach (var expected in new[]
        {
            "--epochs <epochs> Passes over the training images. Default: fitted",
            "--batch-size <batch-size> Images per optimizer step. Default: fitted",
            "--lr <lr> Peak AdamW learning rate (cosine schedule after warmup). Default: fitted",
            "--warmup-epochs <warmup-epochs>", "--image-size <image-size>", $"at least {TrainingRecipe.MinImageSide} px and at most the architecture's size",
            "--validation-fraction <validation-fraction>", "the test split is never seen in training", "[default: 0.1]",
            "--no-ema Turn the fitted model EMA off",
            "--no-adapt-teacher Select the student from the teacher as given.",
            "and fewer than 300 training images per class, the teacher is first fine-tuned",
            "--adapt-epochs <adapt-epochs> Epochs of the teacher's adaptation; setting it adapts the teacher whatever the data size. Default: fitted",
            "features, or none. Default: fitted, logits when the teacher is adapted, else none.",
            "in the fitted augmentation; runs after the crop and flip; none turns it off. Default: fitted, the paper's for ResNet students below 300 training images per class",
        })
            Assert.Contains(expected, text);
        Assert.DoesNotContain("[default: 10]", text);
        Assert.DoesNotContain("[default: 64]", text);
    }
}

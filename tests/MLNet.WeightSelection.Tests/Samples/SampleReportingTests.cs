using ImageClassification;
using MLNet.WeightSelection.Training;
using Spectre.Console;
using Xunit;

namespace MLNet.WeightSelection.Tests.Samples;

/// <summary>What the sample prints about each run's fitted recipe: the progress lines and the results table's rows.</summary>
public class SampleReportingTests
{
    const int StudentEpochs = 6;

    static FittedRecipe Recipe(bool selectsFromTeacher) => TrainingRecipe.Fit(
        new RecipeSettings { Epochs = StudentEpochs },
        new DataProfile(TrainingImages: 2700, ValidationImages: 300, Classes: 10, ImageSize: 56, SelectsFromTeacher: selectsFromTeacher),
        seed: 1);

    static EpochMetrics Metrics(int epoch) =>
        new(epoch, TrainLoss: 1.25, ValidationAccuracy: 0.5, ValidationTop5: 0.9, ValidationLoss: 1.5, LearningRate: 1e-3,
            ImagesPerSecond: 200, Elapsed: TimeSpan.FromSeconds(10 * epoch), DataShare: 0.1);

    static (IAnsiConsole Console, StringWriter Text) PlainConsole()
    {
        var text = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(text),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 160;
        return (console, text);
    }

    [Fact]
    public void The_plain_board_counts_the_teachers_adaptation_epochs_then_the_students_with_the_recipes_totals()
    {
        var recipe = Recipe(selectsFromTeacher: true);
        int adaptationEpochs = TrainingRecipe.AdaptationEpochs(StudentEpochs);
        Assert.Equal(adaptationEpochs, recipe.TeacherAdaptation!.Epochs);
        var (console, text) = PlainConsole();

        new ProgressBoard(console, live: false).Show(new[] { "weight selection" }, rows =>
        {
            rows[0].Recipe(recipe);
            rows[0].TeacherEpoch(Metrics(1));
            rows[0].Epoch(Metrics(1));
            return 0;
        });

        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(3, lines.Length);
        Assert.Equal($"[weight selection] recipe fitted: teacher adaptation {adaptationEpochs} epoch{(adaptationEpochs == 1 ? "" : "s")}, then {StudentEpochs} student epochs", lines[0]);
        Assert.StartsWith($"[weight selection] adapting the teacher: epoch 1/{adaptationEpochs}  loss 1.250  val acc 50.0%", lines[1]);
        Assert.StartsWith($"[weight selection] epoch 1/{StudentEpochs}  loss 1.250  val acc 50.0%", lines[2]);
    }

    [Fact]
    public void Without_a_teacher_to_adapt_the_totals_are_the_students_alone()
    {
        var recipe = Recipe(selectsFromTeacher: false);

        Assert.Null(recipe.TeacherAdaptation);
        Assert.Equal($"{StudentEpochs} student epochs", ProgressBoard.Totals(recipe));
    }

    [Fact]
    public void Recipe_cells_name_the_adaptation_and_the_kept_weights()
    {
        var choices = Recipe(selectsFromTeacher: true).Choices;
        var adapted = new RunRecipe(56, "s", choices, AdaptationEpochs: 2, AdaptationTime: TimeSpan.FromSeconds(83), "Logits(alpha=1, T=1)", EmaOn: true, KeptEma: true);
        var given = adapted with { AdaptationEpochs = 1, AdaptationTime = TimeSpan.FromSeconds(7) };
        var plain = adapted with { AdaptationEpochs = null, AdaptationTime = null, EmaOn = true, KeptEma = false };
        var noEma = plain with { EmaOn = false };

        Assert.Equal("2 epochs, 1:23", adapted.AdaptationText);
        Assert.Equal("1 epoch, 0:07", given.AdaptationText);
        Assert.Equal("off", plain.AdaptationText);
        Assert.Equal("EMA", adapted.WeightsKeptText);
        Assert.Equal("live", plain.WeightsKeptText);
        Assert.Equal("live (EMA off)", noEma.WeightsKeptText);
    }

    [Fact]
    public void The_table_has_a_row_for_image_size_adaptation_distillation_and_kept_weights()
    {
        var choices = Recipe(selectsFromTeacher: true).Choices;
        var history = new[] { Metrics(1), Metrics(2) };
        var cost = new ModelCost(1_000_000, 42.0);
        var selected = new RunResult("weight selection", history, 0.8, 0.99, 0.5, TimeSpan.FromSeconds(100), cost, 4_000_000,
            new RunRecipe(56, "s", choices, 1, TimeSpan.FromSeconds(41), "Logits(alpha=1, T=1)", EmaOn: true, KeptEma: true));
        var random = new RunResult("random init", history, 0.7, 0.98, 0.8, TimeSpan.FromSeconds(60), cost, 4_000_000,
            new RunRecipe(56, "s", choices, null, null, "off", EmaOn: true, KeptEma: false));
        var (console, text) = PlainConsole();

        console.Write(ResultsTable.Create(new[] { selected, random }));

        var rows = text.ToString().Split('\n').Select(line => line.Split('│', StringSplitOptions.TrimEntries)).Where(cells => cells.Length == 5)
            .ToDictionary(cells => cells[1], cells => (cells[2], cells[3]));
        Assert.Equal(("56 px", "56 px"), rows["Image size"]);
        Assert.Equal(("1 epoch, 0:41", "off"), rows["Teacher adaptation"]);
        Assert.Equal(("Logits(alpha=1, T=1)", "off"), rows["Distillation"]);
        Assert.Equal(("EMA", "live"), rows["Weights kept"]);
        Assert.Equal(("80.00%", "70.00%"), rows["Test accuracy"]);
    }
}

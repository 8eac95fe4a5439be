using System.Globalization;
using System.Text;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Cli.Infrastructure;
using MLNet.WeightSelection.Training;
using Spectre.Console;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>
/// The table <c>ws train</c> ends with: the student, its initialization, one row per setting of the fitted recipe
/// (marked "(set)" or "(fitted: why)"), the teacher's adaptation, how training went and the test-split figures.
/// </summary>
internal static class TrainSummary
{
    public static void Write(IAnsiConsole console, WeightSelectionOptions options, WeightSelectionTransformer fitted, EvaluationResult evaluation,
        string weights, string modelZip)
    {
        long parameters;
        using (var file = SafeTensorsFile.Open(weights))
            parameters = file.Keys.Where(k => !CheckpointSummary.IsBuffer(k)).Sum(k => file.GetInfo(k).ElementCount);
        var history = fitted.History;
        var recipe = fitted.Recipe;
        // Left-aligned: the recipe's rows are sentences, not figures.
        var table = Tables.Create("", "value");
        table.AddTextRow("student", $"{fitted.StudentSpec.Family}, {fitted.StudentSpec.ImageSize} px, {Format.Short(parameters)} parameters");
        table.AddTextRow("initialization", fitted.SelectionReport is { } report
            ? $"weight selection (layers {report.LayerSelection}, elements {report.ElementSelection}{(report.WholeHeads ? ", whole heads" : "")}"
                + (fitted.TeacherAdaptation is null ? ")" : ", from the adapted teacher)")
            : "random");
        table.AddTextRow("validation", recipe.Data.ValidationImages == 0
            ? "none (--validation-fraction 0)"
            : $"{recipe.Data.ValidationImages} images held out of the training split ({Format.Percent(options.ValidationFraction)} of each class), "
                + $"{recipe.Data.TrainingImages} left to train on");
        foreach (var choice in recipe.Choices)
            table.AddTextRow(RowName(choice.Name), choice.Value + (choice.WasSet ? " (set)" : $" (fitted: {choice.Reason})"));
        table.AddTextRow("device", options.Device ?? "cpu");
        if (fitted.TeacherAdaptation is { } adaptation)
        {
            var last = adaptation.History[^1];
            table.AddTextRow("teacher adaptation run", $"{adaptation.History.Count} epochs in {Elapsed(last.Elapsed)}, final validation accuracy "
                + $"{Format.Percent(last.ValidationAccuracy)}" + (adaptation.Resumed ? ", resumed" : ""));
        }
        var training = fitted.Training;
        table.AddTextRow("epochs trained", $"{history.Count} of {recipe.Student.Epochs} (best {training.BestEpoch})"
            + (training.StoppedEarly ? ", stopped early" : "") + (training.Resumed ? $", resumed from {options.CheckpointDirectory}" : ""));
        if (recipe.Student.Ema is not null)
        {
            // Early stopping keeps the best epoch; otherwise the last epoch is kept.
            var kept = recipe.Student.EarlyStopping is not null ? training.Best : history[^1];
            table.AddTextRow("weights kept", (training.KeptEma ? "EMA" : "live")
                + $" (epoch {kept.Epoch}: EMA {Format.Percent(kept.EmaValidationAccuracy)}, live {Format.Percent(kept.ValidationAccuracy)} on the validation split)");
        }
        table.AddTextRow("final train loss", Format.Number(history[^1].TrainLoss));
        table.AddTextRow("test accuracy", Format.Percent(evaluation.Accuracy));
        table.AddTextRow("test top-5", evaluation.Top5 is { } top5 ? Format.Percent(top5) : "-");
        table.AddTextRow("test log-loss", Format.Number(evaluation.LogLoss));
        table.AddTextRow("training time", Elapsed(history[^1].Elapsed));
        table.AddTextRow("images/s", Format.Number(history.Average(h => h.ImagesPerSecond), "0"));
        table.AddTextRow("model.zip", Format.Bytes(new FileInfo(modelZip).Length));
        console.Write(table);
    }

    static string Elapsed(TimeSpan time) => time.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture);

    /// <summary>A recipe setting's name as a row: "TeacherAdaptation" → "teacher adaptation", "Ema" → "EMA".</summary>
    internal static string RowName(string setting)
    {
        if (setting == nameof(RecipeSettings.Ema)) return "EMA";
        if (setting == nameof(RecipeSettings.RandAugment)) return "randaugment";
        var name = new StringBuilder();
        foreach (char c in setting)
        {
            if (char.IsUpper(c) && name.Length > 0) name.Append(' ');
            name.Append(char.ToLowerInvariant(c));
        }
        return name.ToString();
    }
}

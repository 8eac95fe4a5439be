using System.Globalization;
using Spectre.Console;

namespace ImageClassification;

/// <summary>The side-by-side comparison of the two students.</summary>
public static class ResultsTable
{
    /// <summary>One column per run, one row per figure.</summary>
    public static Table Create(IReadOnlyList<RunResult> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var table = new Table().Border(TableBorder.Rounded).Title("Test results");
        table.AddColumn(new TableColumn(""));
        foreach (var run in runs) table.AddColumn(new TableColumn($"[bold]{Markup.Escape(run.Name)}[/]").RightAligned());

        void Row(string name, Func<RunResult, string> value) =>
            table.AddRow(new[] { name }.Concat(runs.Select(r => Markup.Escape(value(r)))).ToArray());

        Row("Test accuracy", r => Format($"{r.TestAccuracy * 100:F2}%"));
        Row("Test top-5 accuracy", r => Format($"{r.TestTop5 * 100:F2}%"));
        Row("Test log-loss", r => Format($"{r.TestLogLoss:F4}"));
        Row("Best val accuracy (epoch)", r =>
        {
            var best = r.History.MaxBy(m => m.ValidationAccuracy)!;
            return Format($"{best.ValidationAccuracy * 100:F2}% ({best.Epoch})");
        });
        Row("Epochs", r => Format($"{r.History.Count}"));
        Row("Image size", r => Format($"{r.Recipe.ImageSize} px"));
        Row("Teacher adaptation", r => r.Recipe.AdaptationText);
        Row("Distillation", r => r.Recipe.Distillation);
        Row("Weights kept", r => r.Recipe.WeightsKeptText);
        Row("Training time", r => Format($"{r.TrainingTime:m\\:ss}"));
        Row("Images/s (last epoch)", r => Format($"{r.History[^1].ImagesPerSecond:F0}"));
        Row("Parameters", r => Format($"{r.Cost.Parameters:N0}"));
        Row("MFLOPs per image", r => Format($"{r.Cost.MegaFlops:F1}"));
        Row("Model size (model.zip)", r => Format($"{r.ModelZipBytes / 1e6:F2} MB"));
        return table;
    }

    static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

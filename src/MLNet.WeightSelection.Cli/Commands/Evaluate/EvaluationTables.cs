using System.Globalization;
using MLNet.WeightSelection.Cli.Infrastructure;
using Spectre.Console;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>Prints an <see cref="EvaluationResult"/>: the headline metrics, per-class metrics, and the confusion matrix.</summary>
internal static class EvaluationTables
{
    public static void Write(IAnsiConsole console, EvaluationResult result)
    {
        console.WriteLine($"Images: {result.Count}");
        console.WriteLine($"Accuracy: {Format.Percent(result.Accuracy)} (macro {Format.Percent(result.MacroAccuracy)})");
        console.WriteLine(result.Top5 is { } top5 ? $"Top-5 accuracy: {Format.Percent(top5)}" : "Top-5 accuracy: - (5 classes or fewer)");
        console.WriteLine($"Log-loss: {Format.Number(result.LogLoss)}");

        var perClass = Tables.Create("class", "images", "precision", "recall", "log-loss").RightAligned(1, 2, 3, 4);
        foreach (var c in result.Classes)
            perClass.AddTextRow(c.Name, c.Support.ToString(CultureInfo.InvariantCulture), Format.Percent(c.Precision), Format.Percent(c.Recall), Format.Number(c.LogLoss));
        console.Write(perClass);

        int n = result.Classes.Count;
        var confusion = Tables.Create(new[] { "true \\ predicted" }.Concat(result.Classes.Select(c => c.Name)).ToArray())
            .RightAligned(Enumerable.Range(1, n).ToArray());
        for (int i = 0; i < n; i++)
            confusion.AddTextRow(new[] { result.Classes[i].Name }
                .Concat(Enumerable.Range(0, n).Select(j => result.Confusion[i, j].ToString("0", CultureInfo.InvariantCulture))).ToArray());
        console.Write(confusion);
    }
}

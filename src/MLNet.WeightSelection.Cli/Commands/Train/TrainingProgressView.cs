using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNet.WeightSelection.Cli.Infrastructure;
using MLNet.WeightSelection.Training;
using Spectre.Console;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>
/// Shows training as it runs: a live Spectre.Console progress bar on a terminal (epoch, loss, validation accuracy,
/// images/s), or one line per epoch when the output is a file or a test's writer.
/// </summary>
internal static class TrainingProgressView
{
    public static WeightSelectionTransformer Fit(CliContext context, MLContext ml, WeightSelectionOptions options, Func<WeightSelectionTransformer> fit)
    {
        int epochs = options.Epochs ?? 0;
        var console = context.Out;
        if (!console.Profile.Capabilities.Interactive)
        {
            options.MetricsCallback = m => console.WriteLine("  " + Describe(m, epochs));
            return fit();
        }
        return console.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(progress =>
            {
                var task = progress.AddTask("reading images", maxValue: Math.Max(1, epochs));
                // The estimator logs its stages (reading, selecting) through the MLContext; show them until epochs arrive.
                void OnLog(object? sender, LoggingEventArgs e)
                {
                    if (e.Kind == ChannelMessageKind.Info && e.Source.Contains("InitializeFromTeacher", StringComparison.Ordinal)
                        && task.Value == 0 && !e.RawMessage.StartsWith("epoch ", StringComparison.Ordinal))
                        task.Description = Markup.Escape(Shorten(e.RawMessage));
                }
                ml.Log += OnLog;
                options.MetricsCallback = m =>
                {
                    task.Value = m.Epoch;
                    task.Description = Markup.Escape(Describe(m, epochs));
                };
                try
                {
                    return fit();
                }
                finally
                {
                    ml.Log -= OnLog;
                }
            });
    }

    static string Describe(EpochMetrics m, int epochs) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {m.Epoch}{(epochs > 0 ? $"/{epochs}" : "")}  loss {m.TrainLoss:0.0000}  val acc {Format.Percent(m.ValidationAccuracy)}{(double.IsNaN(m.EmaValidationAccuracy) ? "" : $"  EMA {Format.Percent(m.EmaValidationAccuracy)}")}  {m.ImagesPerSecond:0} img/s");

    static string Shorten(string message) => message.Length <= 70 ? message : message[..69] + "…";
}

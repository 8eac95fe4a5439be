using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNet.WeightSelection.Cli.Infrastructure;
using MLNet.WeightSelection.Training;
using Spectre.Console;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>
/// Shows training as it runs: live Spectre.Console progress bars on a terminal (the teacher's adaptation and the
/// student's training, each with epoch, loss, validation accuracy and images/s), or one line per epoch when the output
/// is a file or a test's writer. The totals come from the recipe the estimator fits once it has read the data.
/// </summary>
internal static class TrainingProgressView
{
    /// <summary>The prefix of a teacher adaptation epoch's line.</summary>
    public const string TeacherPrefix = "teacher ";

    public static WeightSelectionTransformer Fit(CliContext context, MLContext ml, WeightSelectionOptions options, Func<WeightSelectionTransformer> fit)
    {
        var console = context.Out;
        int studentEpochs = 0, teacherEpochs = 0;
        if (!console.Profile.Capabilities.Interactive)
        {
            options.RecipeCallback = recipe =>
            {
                (studentEpochs, teacherEpochs) = (recipe.Student.Epochs, recipe.TeacherAdaptation?.Epochs ?? 0);
                console.WriteLine(recipe.Summary);
            };
            options.TeacherAdaptationMetricsCallback = m => console.WriteLine("  " + TeacherPrefix + Describe(m, teacherEpochs));
            options.MetricsCallback = m => console.WriteLine("  " + Describe(m, studentEpochs));
            return fit();
        }
        FittedRecipe? fittedRecipe = null;
        var result = console.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(progress =>
            {
                var student = progress.AddTask("reading images", maxValue: 1);
                ProgressTask? teacher = null;
                // The estimator logs its stages (reading, selecting) through the MLContext; show them until epochs arrive.
                void OnLog(object? sender, LoggingEventArgs e)
                {
                    if (e.Kind == ChannelMessageKind.Info && e.Source.Contains("InitializeFromTeacher", StringComparison.Ordinal)
                        && student.Value == 0 && !e.RawMessage.StartsWith("epoch ", StringComparison.Ordinal)
                        && !e.RawMessage.StartsWith("[teacher adaptation]", StringComparison.Ordinal))
                        student.Description = Markup.Escape(Shorten(e.RawMessage));
                }
                ml.Log += OnLog;
                options.RecipeCallback = recipe =>
                {
                    fittedRecipe = recipe;
                    student.MaxValue = recipe.Student.Epochs;
                    student.Description = Markup.Escape($"student: {recipe.Student.Epochs} epochs");
                    if (recipe.TeacherAdaptation is { } adaptation)
                        teacher = progress.AddTaskBefore(Markup.Escape($"{TeacherPrefix}adaptation: {adaptation.Epochs} epochs"), student,
                            maxValue: adaptation.Epochs);
                };
                options.TeacherAdaptationMetricsCallback = m =>
                {
                    if (teacher is null) return;
                    teacher.Value = m.Epoch;
                    teacher.Description = Markup.Escape(TeacherPrefix + Describe(m, (int)teacher.MaxValue));
                };
                options.MetricsCallback = m =>
                {
                    if (teacher is { IsFinished: false }) teacher.Value = teacher.MaxValue;
                    student.Value = m.Epoch;
                    student.Description = Markup.Escape(Describe(m, (int)student.MaxValue));
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
        // The live view is gone once training ends; the recipe's line stays in the terminal's scrollback.
        if (fittedRecipe is not null) console.WriteLine(fittedRecipe.Summary);
        return result;
    }

    static string Describe(EpochMetrics m, int epochs) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {m.Epoch}{(epochs > 0 ? $"/{epochs}" : "")}  loss {m.TrainLoss:0.0000}  val acc {Format.Percent(m.ValidationAccuracy)}{(double.IsNaN(m.EmaValidationAccuracy) ? "" : $"  EMA {Format.Percent(m.EmaValidationAccuracy)}")}  {m.ImagesPerSecond:0} img/s");

    static string Shorten(string message) => message.Length <= 70 ? message : message[..69] + "…";
}

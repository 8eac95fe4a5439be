using System.Globalization;
using MLNet.WeightSelection.Training;
using Spectre.Console;

namespace ImageClassification;

/// <summary>
/// Shows training progress, one row per run: a live Spectre.Console progress bar on a terminal, or one plain line
/// per epoch when the output is redirected (CI logs, pipes), where redrawing would only add noise.
/// </summary>
public sealed class ProgressBoard
{
    readonly IAnsiConsole _console;
    readonly bool _live;

    /// <summary>Creates a board writing to <paramref name="console"/>; <paramref name="live"/> draws progress bars.</summary>
    public ProgressBoard(IAnsiConsole console, bool live)
    {
        _console = console;
        _live = live;
    }

    /// <summary>Reports the progress of one run.</summary>
    public interface IRun
    {
        /// <summary>Says what the run is doing before its first epoch (reading images, selecting weights).</summary>
        void Status(string text);

        /// <summary>Records a finished epoch.</summary>
        void Epoch(EpochMetrics metrics);

        /// <summary>Marks the run finished.</summary>
        void Done(string summary);
    }

    /// <summary>Runs <paramref name="work"/> with one progress row per name, each <paramref name="epochs"/> long.</summary>
    public T Show<T>(IReadOnlyList<string> runNames, int epochs, Func<IReadOnlyList<IRun>, T> work)
    {
        if (!_live)
            return work(runNames.Select(name => (IRun)new PlainRun(_console, name, epochs)).ToList());

        T result = default!;
        _console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = 24 },
                new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var runs = runNames.Select(name => (IRun)new LiveRun(context.AddTask(Describe(name, "waiting"), autoStart: false, maxValue: epochs), name, epochs)).ToList();
                result = work(runs);
            });
        return result;
    }

    /// <summary>Epoch, loss, validation accuracy and throughput in one short line.</summary>
    public static string Summary(EpochMetrics m, int epochs) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {m.Epoch}/{epochs}  loss {m.TrainLoss:F3}  val acc {Percent(m.ValidationAccuracy)}  {m.ImagesPerSecond:F0} img/s");

    static string Percent(double fraction) =>
        double.IsNaN(fraction) ? "n/a" : (fraction * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";

    static string Describe(string name, string text) => $"[bold]{Markup.Escape(name),-17}[/] {Markup.Escape(text)}";

    sealed class LiveRun(ProgressTask task, string name, int epochs) : IRun
    {
        public void Status(string text)
        {
            if (!task.IsStarted) task.StartTask();
            task.Description = Describe(name, text);
        }

        public void Epoch(EpochMetrics metrics)
        {
            if (!task.IsStarted) task.StartTask();
            task.Value = metrics.Epoch;
            task.Description = Describe(name, Summary(metrics, epochs));
        }

        public void Done(string summary)
        {
            task.Value = task.MaxValue;
            task.Description = Describe(name, summary);
            task.StopTask();
        }
    }

    sealed class PlainRun(IAnsiConsole console, string name, int epochs) : IRun
    {
        public void Status(string text) => Write(text);

        public void Epoch(EpochMetrics metrics) => Write(Summary(metrics, epochs) +
            string.Create(CultureInfo.InvariantCulture, $"  elapsed {metrics.Elapsed:hh\\:mm\\:ss}"));

        public void Done(string summary) => Write(summary);

        void Write(string text) => console.WriteLine($"[{name}] {text}");
    }
}

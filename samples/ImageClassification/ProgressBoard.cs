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

        /// <summary>Learns the run's totals from its fitted recipe: the teacher's adaptation epochs, then the student's.</summary>
        void Recipe(FittedRecipe recipe);

        /// <summary>Records a finished epoch of the teacher's adaptation.</summary>
        void TeacherEpoch(EpochMetrics metrics);

        /// <summary>Records a finished epoch of the student.</summary>
        void Epoch(EpochMetrics metrics);

        /// <summary>Marks the run finished.</summary>
        void Done(string summary);
    }

    /// <summary>
    /// Runs <paramref name="work"/> with one progress row per name. A row's length is known only once its recipe is
    /// fitted (<see cref="IRun.Recipe"/>): the teacher's adaptation epochs followed by the student's.
    /// </summary>
    public T Show<T>(IReadOnlyList<string> runNames, Func<IReadOnlyList<IRun>, T> work)
    {
        if (!_live)
            return work(runNames.Select(name => (IRun)new PlainRun(_console, name)).ToList());

        T result = default!;
        _console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = 24 },
                new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var runs = runNames.Select(name => (IRun)new LiveRun(context.AddTask(Describe(name, "waiting"), autoStart: false, maxValue: 1), name)).ToList();
                result = work(runs);
            });
        return result;
    }

    /// <summary>Epoch, loss, validation accuracy and throughput in one short line.</summary>
    public static string Summary(EpochMetrics m, int epochs) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {m.Epoch}/{epochs}  loss {m.TrainLoss:F3}  val acc {Percent(m.ValidationAccuracy)}  {m.ImagesPerSecond:F0} img/s");

    /// <summary>The same for an epoch of the teacher's adaptation.</summary>
    public static string TeacherSummary(EpochMetrics m, int epochs) => "adapting the teacher: " + Summary(m, epochs);

    /// <summary>The run's totals in words: "teacher adaptation 1 epoch, then 6 student epochs", or just the student's.</summary>
    public static string Totals(FittedRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        string student = Plural(recipe.Student.Epochs, "student epoch");
        return recipe.TeacherAdaptation is { } adaptation
            ? $"teacher adaptation {Plural(adaptation.Epochs, "epoch")}, then {student}"
            : student;
    }

    static string Plural(int count, string noun) => string.Create(CultureInfo.InvariantCulture, $"{count} {noun}{(count == 1 ? "" : "s")}");

    static string Percent(double fraction) =>
        double.IsNaN(fraction) ? "n/a" : (fraction * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";

    static string Describe(string name, string text) => $"[bold]{Markup.Escape(name),-17}[/] {Markup.Escape(text)}";

    /// <summary>The totals a run learns from its recipe; until then, no adaptation and one epoch.</summary>
    sealed class RunTotals
    {
        public int TeacherEpochs { get; private set; }
        public int StudentEpochs { get; private set; } = 1;

        public void From(FittedRecipe recipe)
        {
            TeacherEpochs = recipe.TeacherAdaptation?.Epochs ?? 0;
            StudentEpochs = recipe.Student.Epochs;
        }
    }

    sealed class LiveRun(ProgressTask task, string name) : IRun
    {
        readonly RunTotals _totals = new();

        public void Status(string text)
        {
            if (!task.IsStarted) task.StartTask();
            task.Description = Describe(name, text);
        }

        public void Recipe(FittedRecipe recipe)
        {
            _totals.From(recipe);
            task.MaxValue = _totals.TeacherEpochs + _totals.StudentEpochs;
            Status(recipe.TeacherAdaptation is null ? "training the student" : "adapting the teacher");
        }

        public void TeacherEpoch(EpochMetrics metrics)
        {
            if (!task.IsStarted) task.StartTask();
            task.Value = metrics.Epoch;
            task.Description = Describe(name, TeacherSummary(metrics, _totals.TeacherEpochs));
        }

        public void Epoch(EpochMetrics metrics)
        {
            if (!task.IsStarted) task.StartTask();
            task.Value = _totals.TeacherEpochs + metrics.Epoch;
            task.Description = Describe(name, Summary(metrics, _totals.StudentEpochs));
        }

        public void Done(string summary)
        {
            task.Value = task.MaxValue;
            task.Description = Describe(name, summary);
            task.StopTask();
        }
    }

    sealed class PlainRun(IAnsiConsole console, string name) : IRun
    {
        readonly RunTotals _totals = new();

        public void Status(string text) => Write(text);

        public void Recipe(FittedRecipe recipe)
        {
            _totals.From(recipe);
            Write("recipe fitted: " + Totals(recipe));
        }

        public void TeacherEpoch(EpochMetrics metrics) => Write(TeacherSummary(metrics, _totals.TeacherEpochs) + Elapsed(metrics));

        public void Epoch(EpochMetrics metrics) => Write(Summary(metrics, _totals.StudentEpochs) + Elapsed(metrics));

        public void Done(string summary) => Write(summary);

        static string Elapsed(EpochMetrics metrics) => string.Create(CultureInfo.InvariantCulture, $"  elapsed {metrics.Elapsed:hh\\:mm\\:ss}");

        void Write(string text) => console.WriteLine($"[{name}] {text}");
    }
}

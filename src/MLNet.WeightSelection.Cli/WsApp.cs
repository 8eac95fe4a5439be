using System.CommandLine;
using MLNet.WeightSelection.Cli.Commands;
using MLNet.WeightSelection.Cli.Infrastructure;

namespace MLNet.WeightSelection.Cli;

/// <summary>
/// The <c>ws</c> tool: parses the command line, runs one command, and turns failures into a one-line error and a
/// non-zero exit code. <see cref="Program"/> and the tests both enter here, so commands run in-process in tests.
/// </summary>
internal static class WsApp
{
    /// <summary>Runs <c>ws</c> with <paramref name="args"/>.</summary>
    /// <param name="args">The arguments after the command name.</param>
    /// <param name="stdout">Results, tables and progress.</param>
    /// <param name="stderr">Errors and warnings.</param>
    /// <param name="interactive">True when <paramref name="stdout"/> is a terminal: colours and live progress bars.</param>
    /// <param name="cancellation">Stops long commands (training) at the next batch.</param>
    /// <returns>The exit code (<see cref="ExitCodes"/>).</returns>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, bool interactive = false,
        CancellationToken cancellation = default)
    {
        var context = new CliContext(ConsoleFactory.Create(stdout, interactive), stderr, cancellation);
        var root = CreateRoot(context);
        ParseResult parsed = root.Parse(args);
        string commandPath = CommandPath(parsed);
        if (parsed.Errors.Count > 0)
        {
            stderr.WriteLine($"{commandPath}: error: {string.Join("; ", parsed.Errors.Select(e => e.Message.TrimEnd('.')))}. "
                + $"See '{commandPath} --help'.");
            return ExitCodes.Usage;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            });
        }
        catch (Exception e)
        {
            stderr.WriteLine($"{commandPath}: error: {ErrorReport.OneLine(e)}");
            if (Environment.GetEnvironmentVariable("WS_DEBUG") == "1") stderr.WriteLine(e);
            return ErrorReport.ExitCode(e);
        }
    }

    /// <summary>The root command with every subcommand.</summary>
    public static Command CreateRoot(CliContext context)
    {
        // A named command rather than RootCommand, whose name is the host process's (testhost under a test runner).
        var root = new Command("ws",
            "ws: weight selection (Xu et al., ICLR 2024, \"Initializing Models with Larger Ones\") for timm-style image classifiers. "
            + "Inspect checkpoints, select a small student's weights from a larger teacher, train and evaluate in ML.NET, export to ONNX.");
        root.Add(new System.CommandLine.Help.HelpOption { Recursive = true });
        root.Add(new VersionOption());
        root.Add(InspectCommand.Create(context));
        root.Add(SelectCommand.Create(context));
        root.Add(TrainCommand.Create(context));
        root.Add(EvaluateCommand.Create(context));
        root.Add(ExportOnnxCommand.Create(context));
        root.Add(PresetsCommand.Create(context));
        return root;
    }

    static string CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (var result = parsed.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
            names.Add(result.Command.Name);
        names.Reverse();
        return string.Join(' ', names);
    }
}

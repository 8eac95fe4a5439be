using Spectre.Console;

namespace MLNet.WeightSelection.Cli.Infrastructure;

/// <summary>Where a command writes and what stops it: results and progress to <see cref="Out"/>, warnings to <see cref="Error"/>.</summary>
internal sealed record CliContext(IAnsiConsole Out, TextWriter Error, CancellationToken Cancellation)
{
    /// <summary>A warning line on the error stream (never mixed into results that scripts parse).</summary>
    public void Warn(string message) => Error.WriteLine($"ws: warning: {message}");
}

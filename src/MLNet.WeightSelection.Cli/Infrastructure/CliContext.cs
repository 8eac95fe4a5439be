using Spectre.Console;

namespace MLNet.WeightSelection.Cli.Infrastructure;

/// <summary>Where a command writes and what stops it: results and progress to <see cref="Out"/>, errors to <see cref="Error"/>.</summary>
internal sealed record CliContext(IAnsiConsole Out, TextWriter Error, CancellationToken Cancellation);

namespace MLNet.WeightSelection.Cli.Infrastructure;

/// <summary>A user error the tool reports as one line, without a stack trace (a bad option value, a missing folder).</summary>
internal sealed class CliException : Exception
{
    public CliException(string message) : base(message) { }

    public CliException(string message, Exception inner) : base(message, inner) { }
}

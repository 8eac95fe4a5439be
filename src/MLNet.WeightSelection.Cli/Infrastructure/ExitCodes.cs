namespace MLNet.WeightSelection.Cli.Infrastructure;

/// <summary>Process exit codes of <c>ws</c>.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>Bad input: a missing or corrupt file, a bad spec, a selection that cannot be made.</summary>
    public const int BadInput = 1;

    /// <summary>The command line itself did not parse (unknown option, missing required option).</summary>
    public const int Usage = 2;

    /// <summary>Cancelled (Ctrl+C).</summary>
    public const int Cancelled = 130;

    /// <summary>An unexpected failure: a bug, reported with its type so it can be filed.</summary>
    public const int InternalError = 70;
}

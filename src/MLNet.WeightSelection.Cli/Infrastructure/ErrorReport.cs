using System.Text.Json;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Selection;
using MLNet.WeightSelection.Training;

namespace MLNet.WeightSelection.Cli.Infrastructure;

/// <summary>
/// Turns an exception into the one line the tool prints and its exit code. Expected failures (bad files, specs,
/// selections) carry messages written for users, so they print as they are; anything else is a bug and says so.
/// </summary>
internal static class ErrorReport
{
    /// <summary>Longest message printed; selection errors can list hundreds of keys.</summary>
    const int MaxLength = 1200;

    public static bool IsExpected(Exception e) => e is CliException or FileNotFoundException or DirectoryNotFoundException
        or InvalidDataException or JsonException or WeightSelectionException or StateDictLoadException
        or KeyNotFoundException or ArgumentException or NotSupportedException or UnauthorizedAccessException
        or IOException or InvalidOperationException or FormatException or TrainingDivergedException;

    public static int ExitCode(Exception e) => e switch
    {
        OperationCanceledException => ExitCodes.Cancelled,
        _ when IsExpected(e) => ExitCodes.BadInput,
        _ => ExitCodes.InternalError,
    };

    /// <summary>The single line printed for <paramref name="e"/> (without the "ws: error:" prefix).</summary>
    public static string OneLine(Exception e)
    {
        if (e is OperationCanceledException) return "cancelled.";
        string message = Flatten(e.Message);
        if (!IsExpected(e)) message = $"unexpected {e.GetType().Name}: {message} (this is a bug; please report it with the command line)";
        return message.Length <= MaxLength ? message : message[..(MaxLength - 1)] + "…";
    }

    /// <summary>Joins a multi-line message (a selection's problem list) into one line.</summary>
    static string Flatten(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length <= 1) return message.Trim();
        return lines[0].TrimEnd(':') + ": " + string.Join("; ", lines.Skip(1));
    }
}

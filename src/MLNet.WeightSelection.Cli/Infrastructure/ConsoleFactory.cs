using Spectre.Console;

namespace MLNet.WeightSelection.Cli.Infrastructure;

/// <summary>Creates the Spectre.Console console commands write to: a terminal with colours, or any TextWriter as plain text.</summary>
internal static class ConsoleFactory
{
    /// <summary>Width used when the output is not a terminal, so tables are not wrapped at 80 columns in logs and tests.</summary>
    public const int PlainWidth = 200;

    public static IAnsiConsole Create(TextWriter output, bool interactive)
    {
        if (interactive)
            return AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = PlainWidth;
        return console;
    }
}

using ImageClassification;
using Spectre.Console;

// Live progress bars on a terminal; plain lines when stdout is redirected (CI, pipes, files).
bool interactive = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
return SampleCommandLine.Run(args, Console.Out, Console.Error, interactive);

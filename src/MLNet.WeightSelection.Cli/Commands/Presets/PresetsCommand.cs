using MLNet.WeightSelection.Models;
using System.CommandLine;
using MLNet.WeightSelection.Cli.Infrastructure;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary><c>ws presets [--family F] [--json]</c>: the registered architectures a spec can name.</summary>
internal static class PresetsCommand
{
    public static Command Create(CliContext context)
    {
        var family = new Option<string?>("--family") { Description = $"Only this family ({string.Join(", ", ModelFamilies.Names)})." };
        var json = new Option<bool>("--json") { Description = "Print each preset's full spec as JSON (the form --student-spec accepts)." };
        var command = new Command("presets", "List the model presets a spec can name, with their family and spec.") { family, json };
        command.SetAction(parse => PresetsRunner.Run(parse.GetValue(family), parse.GetValue(json), context));
        return command;
    }
}

using System.CommandLine;
using MLNet.WeightSelection.Cli.Infrastructure;
using MLNet.WeightSelection.Models;
using Spectre.Console;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary><c>ws presets [--family F] [--json]</c>: the registered architectures a spec can name.</summary>
internal static class PresetsCommand
{
    public static Command Create(CliContext context)
    {
        var family = new Option<string?>("--family") { Description = "Only this family (vit, convnext, resnet)." };
        var json = new Option<bool>("--json") { Description = "Print each preset's full spec as JSON (the form --student-spec accepts)." };
        var command = new Command("presets", "List the model presets a spec can name, with their family and spec.") { family, json };
        command.SetAction(parse => Run(parse.GetValue(family), parse.GetValue(json), context));
        return command;
    }

    static int Run(string? family, bool json, CliContext context)
    {
        var presets = ModelRegistry.Names.Select(n => (Name: n, Spec: ModelRegistry.GetSpec(n)))
            .Where(p => family is null || string.Equals(p.Spec.Family, family, StringComparison.OrdinalIgnoreCase)).ToList();
        if (presets.Count == 0) throw new CliException($"--family: no presets of family '{family}'; families: vit, convnext, resnet.");
        if (json)
        {
            foreach (var (name, spec) in presets) context.Out.WriteLine($"{name}: {spec.ToJson(indented: false)}");
            return ExitCodes.Success;
        }
        var table = Tables.Create("preset", "family", "image size", "classes");
        foreach (var (name, spec) in presets) table.AddTextRow(name, spec.Family, spec.ImageSize.ToString(), spec.NumClasses.ToString());
        context.Out.Write(table);
        return ExitCodes.Success;
    }
}

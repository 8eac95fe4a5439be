using MLNet.WeightSelection.Cli.Infrastructure;
using MLNet.WeightSelection.Models;
using Spectre.Console;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>The work of <c>ws presets</c>: a table of the registered presets, or each one's spec as JSON.</summary>
internal static class PresetsRunner
{
    public static int Run(string? family, bool json, CliContext context)
    {
        var presets = ModelRegistry.Names.Select(n => (Name: n, Spec: ModelRegistry.GetSpec(n)))
            .Where(p => family is null || string.Equals(p.Spec.Family, family, StringComparison.OrdinalIgnoreCase)).ToList();
        if (presets.Count == 0) throw new CliException($"--family: no presets of family '{family}'; families: {string.Join(", ", ModelFamilies.Names)}.");
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

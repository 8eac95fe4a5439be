using System.Text.Json;
using MLNet.WeightSelection.Models;

namespace MLNet.WeightSelection.Cli.Infrastructure;

/// <summary>Resolves a model spec given on the command line: a preset name, a .json file, or inline JSON.</summary>
internal static class Specs
{
    /// <summary>The spec <paramref name="text"/> names; errors name the option it came from.</summary>
    public static ModelSpec Resolve(string text, string option)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new CliException($"{option} is empty; give a preset name, a .json file or inline JSON.");
        try
        {
            return ModelRegistry.ResolveSpec(text);
        }
        catch (JsonException e)
        {
            throw new CliException($"{option}: {e.Message}", e);
        }
        catch (KeyNotFoundException e)
        {
            throw new CliException($"{option}: {e.Message} A spec is a preset name, a .json file, or inline JSON such as "
                + "'{\"family\": \"resnet\", \"block\": \"basic\", \"layers\": [1, 1, 1, 1]}'.", e);
        }
        catch (FileNotFoundException e)
        {
            throw new CliException($"{option}: {e.Message}", e);
        }
        catch (ArgumentException e)
        {
            throw new CliException($"{option}: {e.Message}", e);
        }
    }

    /// <summary>The help text of a spec option.</summary>
    public static string Help(string what, string? more = null) =>
        $"{what}: a preset name (see 'ws presets'), a .json file, or inline JSON like {{\"family\": \"vit\", \"embed_dim\": 192, ...}} (timm keyword arguments plus \"family\")."
        + (more is null ? "" : " " + more);
}

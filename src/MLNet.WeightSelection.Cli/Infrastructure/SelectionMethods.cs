using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Cli.Infrastructure;

/// <summary>Maps the command-line names of the selection methods to the library's.</summary>
internal static class SelectionMethods
{
    public static LayerSelection Layers(string name) => name switch
    {
        "first-n" => LayerSelection.FirstN,
        "uniform" => LayerSelection.Uniform,
        "middle" => LayerSelection.Middle,
        "last" => LayerSelection.Last,
        _ => throw new CliException($"--layers: unknown method '{name}'; use first-n, uniform, middle or last."),
    };

    public static ElementSelection Elements(string name, int seed) => name switch
    {
        "uniform" => ElementSelection.Uniform,
        "consecutive" => ElementSelection.Consecutive,
        "random" => ElementSelection.RandomConsistent(seed),
        "random-inconsistent" => ElementSelection.RandomInconsistent(seed),
        "l1" => ElementSelection.L1,
        "magnitude" => ElementSelection.Magnitude,
        _ => throw new CliException($"--elements: unknown method '{name}'; use uniform, consecutive, random, random-inconsistent, l1 or magnitude."),
    };
}

using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;

namespace MLNet.WeightSelection.Cli.Infrastructure;

/// <summary>
/// Checks a checkpoint's telling shapes (widths, depths, patch size, block type) against a spec without building the
/// model, so a large teacher is never materialized just to be compared; each family knows its own
/// (<see cref="ModelFamily.ShapeMismatches"/>).
/// </summary>
internal static class SpecShapes
{
    /// <summary>Key → shape of every tensor of <paramref name="source"/>.</summary>
    public static CheckpointShapes Of(ITensorSource source) => CheckpointShapes.Of(source);

    /// <summary>Where the checkpoint and <paramref name="spec"/> disagree, one phrase each; empty when they agree.</summary>
    public static IReadOnlyList<string> Mismatches(ModelSpec spec, CheckpointShapes shapes) =>
        ModelFamilies.Get(spec.Family).ShapeMismatches(spec, shapes);
}

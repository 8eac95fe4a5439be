using MLNet.WeightSelection.Checkpoints;

namespace MLNet.WeightSelection.Selection;

/// <summary>The selected student weights and the report of how each was made. Disposing it disposes the weights.</summary>
public sealed class SelectionResult : IDisposable
{
    internal SelectionResult(StateDict weights, SelectionReport report)
    {
        Weights = weights;
        Report = report;
    }

    /// <summary>
    /// The student's state dict in the student's key order: every selected tensor, and the classifier's own
    /// initialization when the student was given with its tensors.
    /// </summary>
    public StateDict Weights { get; }

    /// <summary>One row per student tensor.</summary>
    public SelectionReport Report { get; }

    /// <inheritdoc />
    public void Dispose() => Weights.Dispose();
}

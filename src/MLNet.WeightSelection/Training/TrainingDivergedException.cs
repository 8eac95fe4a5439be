namespace MLNet.WeightSelection.Training;

/// <summary>Thrown when the training loss becomes NaN or infinite; names the epoch and step where it happened.</summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception for <paramref name="epoch"/> and <paramref name="step"/> (both 1-based).</summary>
    public TrainingDivergedException(int epoch, int step, int stepsPerEpoch, double loss, double learningRate)
        : base(FormattableString.Invariant(
            $"Training diverged: the loss is {loss} at epoch {epoch}, step {step} of {stepsPerEpoch} (learning rate {learningRate:E3}). Lower the learning rate or check the input data."))
    {
        Epoch = epoch;
        Step = step;
        Loss = loss;
    }

    /// <summary>1-based epoch in which the loss stopped being finite.</summary>
    public int Epoch { get; }

    /// <summary>1-based step within <see cref="Epoch"/>.</summary>
    public int Step { get; }

    /// <summary>The offending loss value (NaN or ±infinity).</summary>
    public double Loss { get; }
}

namespace MLNet.WeightSelection.Training;

/// <summary>
/// Stops training when the monitored metric has not improved for <see cref="Patience"/> epochs, then restores the
/// weights of the best epoch. The metric is validation accuracy (higher is better) when a validation set is given,
/// otherwise the training loss (lower is better).
/// </summary>
public sealed class EarlyStoppingOptions
{
    /// <summary>Epochs without improvement tolerated before stopping. Default: 5.</summary>
    public int Patience { get; set; } = 5;

    /// <summary>The smallest change that counts as an improvement (accuracy as a fraction, or loss). Default: 0.</summary>
    public double MinDelta { get; set; } = 0.0;

    /// <summary>Throws <see cref="ArgumentException"/> when a value is out of range.</summary>
    public void Validate()
    {
        if (Patience < 1) throw new ArgumentException($"EarlyStopping.Patience must be at least 1; got {Patience}.");
        if (!(MinDelta >= 0) || double.IsInfinity(MinDelta)) throw new ArgumentException($"EarlyStopping.MinDelta must be finite and >= 0; got {MinDelta}.");
    }
}

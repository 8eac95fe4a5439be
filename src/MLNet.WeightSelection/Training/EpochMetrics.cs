namespace MLNet.WeightSelection.Training;

/// <summary>What one epoch did. Validation figures are NaN when no validation set was given, EMA figures when <see cref="TrainingOptions.Ema"/> is off.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="TrainLoss">Mean over the epoch's steps of the minimized loss (classification plus any distillation term).</param>
/// <param name="ValidationAccuracy">Top-1 accuracy of the live weights over the whole validation set, as a fraction.</param>
/// <param name="ValidationTop5">Top-5 accuracy over the whole validation set (top-K when there are K &lt; 5 classes).</param>
/// <param name="ValidationLoss">Mean plain cross-entropy (no smoothing) over the whole validation set.</param>
/// <param name="LearningRate">Learning rate of the epoch's last step.</param>
/// <param name="ImagesPerSecond">Training images per second over the epoch's steps (validation excluded).</param>
/// <param name="Elapsed">Wall time since training began, including earlier runs when resumed.</param>
/// <param name="DataShare">Fraction of step time spent loading and augmenting batches (the rest is forward, backward, update).</param>
/// <param name="EmaValidationAccuracy">Top-1 validation accuracy of the EMA weights at the end of the epoch.</param>
/// <param name="EmaValidationTop5">Top-5 validation accuracy of the EMA weights.</param>
/// <param name="EmaValidationLoss">Mean validation cross-entropy of the EMA weights.</param>
public sealed record EpochMetrics(
    int Epoch,
    double TrainLoss,
    double ValidationAccuracy,
    double ValidationTop5,
    double ValidationLoss,
    double LearningRate,
    double ImagesPerSecond,
    TimeSpan Elapsed,
    double DataShare,
    double EmaValidationAccuracy = double.NaN,
    double EmaValidationTop5 = double.NaN,
    double EmaValidationLoss = double.NaN)
{
    /// <summary>
    /// True when the EMA weights scored better on validation than the live ones: higher top-1 accuracy, or the same
    /// accuracy and a lower loss. False when EMA is off.
    /// </summary>
    public bool EmaIsBetter =>
        EmaValidationAccuracy > ValidationAccuracy
        || (EmaValidationAccuracy == ValidationAccuracy && EmaValidationLoss < ValidationLoss);

    /// <summary>The validation accuracy of the better of the live and EMA weights: the figure that picks the best epoch.</summary>
    public double BestValidationAccuracy => EmaIsBetter ? EmaValidationAccuracy : ValidationAccuracy;

    /// <summary>One log line with every figure.</summary>
    public override string ToString() => FormattableString.Invariant(
        $"epoch {Epoch}: train loss {TrainLoss:F4}, val acc {ValidationAccuracy:P2}, val top-5 {ValidationTop5:P2}, val loss {ValidationLoss:F4}, ") +
        (double.IsNaN(EmaValidationAccuracy) ? "" : FormattableString.Invariant(
            $"EMA val acc {EmaValidationAccuracy:P2}, EMA val loss {EmaValidationLoss:F4} ({(EmaIsBetter ? "EMA" : "live")} better), ")) +
        FormattableString.Invariant($"lr {LearningRate:E2}, {ImagesPerSecond:F0} img/s, data {DataShare:P1}, elapsed {Elapsed:hh\\:mm\\:ss}");
}

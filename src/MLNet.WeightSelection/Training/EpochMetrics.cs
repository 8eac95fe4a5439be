namespace MLNet.WeightSelection.Training;

/// <summary>What one epoch did. Validation figures are NaN when no validation set was given.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="TrainLoss">Mean over the epoch's steps of the minimized loss (classification plus any distillation term).</param>
/// <param name="ValidationAccuracy">Top-1 accuracy over the whole validation set, as a fraction.</param>
/// <param name="ValidationTop5">Top-5 accuracy over the whole validation set (top-K when there are K &lt; 5 classes).</param>
/// <param name="ValidationLoss">Mean plain cross-entropy (no smoothing) over the whole validation set.</param>
/// <param name="LearningRate">Learning rate of the epoch's last step.</param>
/// <param name="ImagesPerSecond">Training images per second over the epoch's steps (validation excluded).</param>
/// <param name="Elapsed">Wall time since training began, including earlier runs when resumed.</param>
/// <param name="DataShare">Fraction of step time spent loading and augmenting batches (the rest is forward, backward, update).</param>
public sealed record EpochMetrics(
    int Epoch,
    double TrainLoss,
    double ValidationAccuracy,
    double ValidationTop5,
    double ValidationLoss,
    double LearningRate,
    double ImagesPerSecond,
    TimeSpan Elapsed,
    double DataShare)
{
    /// <summary>One log line with every figure.</summary>
    public override string ToString() => FormattableString.Invariant(
        $"epoch {Epoch}: train loss {TrainLoss:F4}, val acc {ValidationAccuracy:P2}, val top-5 {ValidationTop5:P2}, val loss {ValidationLoss:F4}, lr {LearningRate:E2}, {ImagesPerSecond:F0} img/s, data {DataShare:P1}, elapsed {Elapsed:hh\\:mm\\:ss}");
}

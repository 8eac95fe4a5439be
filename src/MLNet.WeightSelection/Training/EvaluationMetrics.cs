namespace MLNet.WeightSelection.Training;

/// <summary>Classification quality over a whole dataset (every batch counted, the last one included).</summary>
public sealed class EvaluationMetrics
{
    internal EvaluationMetrics(int count, long correct, long top5Correct, double lossSum, long[,] confusion)
    {
        Count = count;
        Accuracy = count == 0 ? double.NaN : (double)correct / count;
        Top5Accuracy = count == 0 ? double.NaN : (double)top5Correct / count;
        Loss = count == 0 ? double.NaN : lossSum / count;
        ConfusionMatrix = confusion;
    }

    /// <summary>Number of images evaluated.</summary>
    public int Count { get; }

    /// <summary>Top-1 accuracy as a fraction.</summary>
    public double Accuracy { get; }

    /// <summary>Top-5 accuracy as a fraction (top-K when the model has K &lt; 5 classes, which makes it 1).</summary>
    public double Top5Accuracy { get; }

    /// <summary>Mean plain cross-entropy (natural log, no label smoothing).</summary>
    public double Loss { get; }

    /// <summary>Counts indexed [true class, predicted class].</summary>
    public long[,] ConfusionMatrix { get; }

    /// <summary>Number of classes (the side of <see cref="ConfusionMatrix"/>).</summary>
    public int NumClasses => ConfusionMatrix.GetLength(0);

    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant(
        $"{Count} images: accuracy {Accuracy:P2}, top-5 {Top5Accuracy:P2}, loss {Loss:F4}");
}

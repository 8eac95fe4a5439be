using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.WeightSelection.MLNet;

/// <summary>
/// Turns the one-hot arg-max of the probabilities into a PredictedLabel of the label's own key type, with built-in,
/// saveable ML.NET parts only.
/// </summary>
/// <remarks>
/// ML.NET 5 has no public transform that makes a scalar from a vector, and OnnxTransformer only outputs vectors (its
/// scalar-tensor getter fails), so a key cannot come from ONNX alone: an ONNX string output mapped through
/// MapValueToKey is a <c>Vector&lt;Key, 1&gt;</c>, not a key. A multiclass trainer's PredictedLabel is a scalar key
/// carrying the training label's key values. Naive Bayes over K one-hot rows, one per class, is a lookup table:
/// one-hot <c>e_k</c> scores class k highest by 2·ln 2 (pure counting, no optimizer, no randomness). The K possible
/// inputs are checked after fitting, so PredictedLabel is exactly the arg-max of the probabilities.
/// </remarks>
internal static class ArgMaxKeyHead
{
    /// <summary>Fits the lookup on <paramref name="featureColumn"/> (a one-hot <c>Vector&lt;Single, K&gt;</c>) for the classes of <paramref name="label"/>.</summary>
    /// <returns>A transformer that adds <c>Score</c> (the table's own scores, to be replaced) and <c>PredictedLabel</c>.</returns>
    public static ITransformer Fit(MLContext ml, LabelColumn label, string featureColumn)
    {
        int k = label.ClassCount;
        var table = OneHotRows(ml, label, featureColumn);
        var head = ml.MulticlassClassification.Trainers.NaiveBayes(labelColumnName: label.Name, featureColumnName: featureColumn).Fit(table);

        var predicted = head.Transform(table).GetColumn<uint>(DefaultPredictedLabel).ToArray();
        for (int i = 0; i < k; i++)
            if (predicted[i] != i + 1)
                throw new InvalidOperationException(
                    $"The arg-max lookup maps class {i} to key {predicted[i]} instead of {i + 1}; PredictedLabel would not match Score.");
        return head;
    }

    /// <summary>The column name a multiclass trainer gives its predicted key.</summary>
    public const string DefaultPredictedLabel = "PredictedLabel";

    /// <summary>The column name a multiclass trainer gives its scores.</summary>
    public const string DefaultScore = "Score";

    static IDataView OneHotRows(MLContext ml, LabelColumn label, string featureColumn)
    {
        int k = label.ClassCount;
        var rows = Enumerable.Range(0, k).Select(i =>
        {
            var features = new float[k];
            features[i] = 1f;
            return features;
        }).ToArray();
        return LabeledVectors.Create(ml, label, rows, Enumerable.Range(0, k).Select(i => (long)i).ToArray(), featureColumn);
    }
}

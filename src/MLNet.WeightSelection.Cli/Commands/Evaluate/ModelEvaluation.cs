using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.WeightSelection.Cli.Infrastructure;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>Quality of one class: precision, recall, log-loss and support.</summary>
internal sealed record ClassMetrics(string Name, int Support, double Precision, double Recall, double LogLoss);

/// <summary>What <see cref="ModelEvaluation"/> measured on a labelled image set.</summary>
internal sealed record EvaluationResult(int Count, double Accuracy, double MacroAccuracy, double? Top5, double LogLoss,
    IReadOnlyList<ClassMetrics> Classes, double[,] Confusion);

/// <summary>
/// Scores labelled images with a fitted ML.NET model (one whose input is ImagePath and Label, adding a key-typed
/// PredictedLabel and a Score vector) and evaluates it with ML.NET's multiclass evaluator.
/// </summary>
internal static class ModelEvaluation
{
    public static EvaluationResult Evaluate(MLContext ml, ITransformer model, IReadOnlyList<ImageRow> rows)
    {
        var data = ml.Data.LoadFromEnumerable(rows);
        var scored = model.Transform(data);
        var schema = scored.Schema;
        foreach (var column in new[] { "Label", "Score", "PredictedLabel" })
            if (schema.GetColumnOrNull(column) is null)
                throw new CliException($"The model gives no '{column}' column; ws evaluate needs a model that takes ImagePath and Label and adds Score and PredictedLabel (as ws train saves).");
        if (schema["Label"].Type is not KeyDataViewType || schema["PredictedLabel"].Type is not KeyDataViewType)
            throw new CliException("The model's Label and PredictedLabel are not key-typed; ws evaluate needs the key-typed columns a multiclass model adds (as ws train saves).");

        var names = ClassNames(schema["Label"]);
        var unknown = rows.Select(r => r.Label).Distinct().Where(l => !names.Contains(l)).ToList();
        if (unknown.Count > 0)
            throw new CliException($"The data has classes the model does not know: {string.Join(", ", unknown)} (it knows {string.Join(", ", names)}).");

        int classes = names.Count;
        var metrics = ml.MulticlassClassification.Evaluate(scored, "Label", "Score", "PredictedLabel", topKPredictionCount: classes > 5 ? 5 : 0);
        var counts = metrics.ConfusionMatrix.Counts;
        var confusion = new double[classes, classes];
        for (int i = 0; i < classes; i++)
            for (int j = 0; j < classes; j++) confusion[i, j] = counts[i][j];
        var perClass = Enumerable.Range(0, classes).Select(i => new ClassMetrics(
            names[i],
            (int)Enumerable.Range(0, classes).Sum(j => confusion[i, j]),
            metrics.ConfusionMatrix.PerClassPrecision[i],
            metrics.ConfusionMatrix.PerClassRecall[i],
            metrics.PerClassLogLoss[i])).ToList();
        return new EvaluationResult(rows.Count, metrics.MicroAccuracy, metrics.MacroAccuracy,
            classes > 5 ? metrics.TopKAccuracy : null, metrics.LogLoss, perClass, confusion);
    }

    static List<string> ClassNames(DataViewSchema.Column label)
    {
        VBuffer<ReadOnlyMemory<char>> values = default;
        label.GetKeyValues(ref values);
        return values.DenseValues().Select(v => v.ToString()).ToList();
    }
}

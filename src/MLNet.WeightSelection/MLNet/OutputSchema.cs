using Microsoft.ML;

namespace MLNet.WeightSelection.MLNet;

/// <summary>
/// The estimator's output schema shape: the input plus Score and PredictedLabel shaped and annotated as a multiclass
/// trainer's. ML.NET keeps the constructors of <see cref="SchemaShape.Column"/> internal, so the shape is asked of a
/// real multiclass trainer (naive Bayes over the label's one-hot vector), renamed and trimmed with built-in
/// estimators; nothing is fitted.
/// </summary>
internal static class OutputSchema
{
    const string Probe = "WeightSelection.SchemaProbe";

    public static SchemaShape Of(MLContext ml, SchemaShape input, string label, string score, string predictedLabel)
    {
        IEstimator<ITransformer> chain = ml.Transforms.Conversion.MapKeyToVector(Probe, label)
            .Append(ml.MulticlassClassification.Trainers.NaiveBayes(label, Probe));
        var drop = new List<string> { Probe };
        if (score != ArgMaxKeyHead.DefaultScore)
        {
            chain = chain.Append(ml.Transforms.CopyColumns(score, ArgMaxKeyHead.DefaultScore));
            if (predictedLabel != ArgMaxKeyHead.DefaultScore) drop.Add(ArgMaxKeyHead.DefaultScore);
        }
        if (predictedLabel != ArgMaxKeyHead.DefaultPredictedLabel)
        {
            chain = chain.Append(ml.Transforms.CopyColumns(predictedLabel, ArgMaxKeyHead.DefaultPredictedLabel));
            if (score != ArgMaxKeyHead.DefaultPredictedLabel) drop.Add(ArgMaxKeyHead.DefaultPredictedLabel);
        }
        chain = chain.Append(ml.Transforms.DropColumns(drop.ToArray()));
        return chain.GetOutputSchema(input);
    }
}

using Microsoft.ML;
using Microsoft.ML.Data;

namespace ImageClassification;

/// <summary>
/// Consumes a saved model.zip the way Model Builder's generated <c>MLModel.consumption.cs</c> does: a prediction
/// engine created lazily on first use, and a <see cref="Predict"/> helper. It needs ONNX Runtime, not libtorch.
/// </summary>
public sealed class MLModel : IDisposable
{
    readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> _engine;

    /// <summary>Consumes the model saved at <paramref name="modelPath"/>.</summary>
    public MLModel(string modelPath)
    {
        ModelPath = Path.GetFullPath(modelPath);
        _engine = new Lazy<PredictionEngine<ModelInput, ModelOutput>>(CreatePredictEngine, isThreadSafe: true);
    }

    /// <summary>The model.zip this instance loads.</summary>
    public string ModelPath { get; }

    /// <summary>Predicts one image's class. A PredictionEngine is not thread-safe: use one MLModel per thread.</summary>
    public ModelOutput Predict(ModelInput input) => _engine.Value.Predict(input);

    /// <summary>Every class with its probability, most probable first.</summary>
    public IEnumerable<KeyValuePair<string, float>> GetSortedScoresWithLabels(ModelOutput output)
    {
        VBuffer<ReadOnlyMemory<char>> names = default;
        _engine.Value.OutputSchema["Score"].GetSlotNames(ref names);
        return names.DenseValues().Select(n => n.ToString()).Zip(output.Score, (n, s) => new KeyValuePair<string, float>(n, s))
            .OrderByDescending(p => p.Value);
    }

    PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()
    {
        if (!File.Exists(ModelPath)) throw new FileNotFoundException($"No model at {ModelPath}; train one first.", ModelPath);
        var ml = new MLContext();
        ITransformer model = ml.Model.Load(ModelPath, out _);
        return ml.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);
    }

    /// <summary>Releases the prediction engine.</summary>
    public void Dispose()
    {
        if (_engine.IsValueCreated) _engine.Value.Dispose();
    }
}

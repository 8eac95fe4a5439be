using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.WeightSelection.MLNet;

/// <summary>
/// A scoring chain (see <see cref="ScoringChain"/>) whose <see cref="Transform"/> runs the student on many rows per
/// ONNX Runtime call. Everything else (schema, single-row mapping for <c>PredictionEngine</c>, saving) is the chain's
/// own, so saving it again writes the same model of ML.NET's built-in parts.
/// </summary>
internal sealed class BatchedScoringTransformer : ITransformer, IDisposable
{
    readonly TransformerChain<ITransformer> _scoring;
    readonly BatchedStudent _student;

    public BatchedScoringTransformer(TransformerChain<ITransformer> scoring, BatchedStudent student)
    {
        _scoring = scoring;
        _student = student;
    }

    public bool IsRowToRowMapper => true;

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _scoring.GetOutputSchema(inputSchema);

    public IDataView Transform(IDataView input) => ScoringChain.TransformBatched(_scoring, _student, input);

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => ((ITransformer)_scoring).GetRowToRowMapper(inputSchema);

    void ICanSaveModel.Save(ModelSaveContext ctx) => ((ICanSaveModel)_scoring).Save(ctx);

    public void Dispose() => _student.Dispose();

    /// <summary>
    /// <paramref name="model"/> with its scoring chain (found by its parts) scoring in batches through the student
    /// <paramref name="studentOnnx"/>; the model itself when it holds none, or more than one.
    /// </summary>
    public static ITransformer Wrap(ITransformer model, byte[] studentOnnx)
    {
        if (Count(model) != 1) return model;
        return Wrap(model, new BatchedStudent(studentOnnx));
    }

    static int Count(ITransformer model) => model is TransformerChain<ITransformer> chain
        ? ScoringChain.IsScoringChain(chain) ? 1 : chain.Sum(Count)
        : 0;

    static ITransformer Wrap(ITransformer model, BatchedStudent student)
    {
        if (model is not TransformerChain<ITransformer> chain || Count(chain) == 0) return model;
        if (ScoringChain.IsScoringChain(chain)) return new BatchedScoringTransformer(chain, student);
        return new TransformerChain<ITransformer>(chain.Select(part => Wrap(part, student)).ToArray());
    }
}

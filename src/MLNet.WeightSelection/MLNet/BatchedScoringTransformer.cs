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
    /// <paramref name="model"/> with every scoring chain in it, found by its shape on <paramref name="inputSchema"/>,
    /// scoring in batches through the student <paramref name="studentOnnx"/>; the model itself when it holds none.
    /// </summary>
    public static ITransformer Wrap(ITransformer model, DataViewSchema inputSchema, byte[] studentOnnx)
    {
        var student = new BatchedStudent(studentOnnx);
        var wrapped = Wrap(model, inputSchema, student, out int count);
        if (count == 0) student.Dispose();
        return wrapped;
    }

    static ITransformer Wrap(ITransformer model, DataViewSchema inputSchema, BatchedStudent student, out int wrapped)
    {
        wrapped = 0;
        if (model is not TransformerChain<ITransformer> chain) return model;
        if (ScoringChain.IsScoringChain(chain, inputSchema))
        {
            wrapped = 1;
            return new BatchedScoringTransformer(chain, student);
        }
        var parts = new List<ITransformer>();
        var schema = inputSchema;
        foreach (var part in chain)
        {
            parts.Add(Wrap(part, schema, student, out int inner));
            wrapped += inner;
            schema = part.GetOutputSchema(schema);
        }
        return wrapped == 0 ? model : new TransformerChain<ITransformer>(parts.ToArray());
    }
}

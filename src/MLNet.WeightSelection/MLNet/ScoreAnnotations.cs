using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.WeightSelection.MLNet;

/// <summary>
/// Gives the Score column the annotations a multiclass trainer's score column carries: ScoreColumnKind and
/// ScoreColumnSetId (shared with PredictedLabel), ScoreValueKind = Score, TrainingLabelValues, and SlotNames (already
/// set from the ONNX head when the classes have text names). Values are untouched: the view only swaps the schema.
/// </summary>
/// <remarks>
/// The saved model is built from ML.NET's own parts, which cannot set these on a column they did not score; after
/// <c>Model.Load</c> Score keeps its SlotNames and PredictedLabel keeps all of its annotations.
/// </remarks>
internal static class ScoreAnnotations
{
    /// <summary>The schema with Score's annotations completed; columns keep their order, types and visibility.</summary>
    public static DataViewSchema Annotate(DataViewSchema schema, string scoreColumn, string predictedLabelColumn, LabelColumn label)
    {
        var score = schema.GetColumnOrNull(scoreColumn)
            ?? throw new InvalidOperationException($"The scored data has no '{scoreColumn}' column.");
        var predicted = schema.GetColumnOrNull(predictedLabelColumn);

        var annotations = new DataViewSchema.Annotations.Builder();
        annotations.Add(score.Annotations, _ => true);
        if (predicted is { } p)
            annotations.Add(p.Annotations, kind => kind is AnnotationKinds.ScoreColumnKind or AnnotationKinds.ScoreColumnSetId);
        if (!Has(score, AnnotationKinds.ScoreColumnKind) && predicted is null)
            AddText(annotations, AnnotationKinds.ScoreColumnKind, AnnotationKinds.MulticlassClassification);
        AddText(annotations, AnnotationKinds.ScoreValueKind, AnnotationKinds.Score);
        if (label.KeyValues is not null)
        {
            typeof(ScoreAnnotations).GetMethod(nameof(AddTrainingLabelValues), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                .MakeGenericMethod(label.KeyValuesType!.ItemType.RawType)
                .Invoke(null, new object[] { annotations, label.KeyValues, label.KeyValuesType });
        }

        var builder = new DataViewSchema.Builder();
        foreach (var column in schema)
            builder.AddColumn(column.Name, column.Type, column.Index == score.Index ? annotations.ToAnnotations() : column.Annotations);
        return builder.ToSchema();
    }

    static bool Has(DataViewSchema.Column column, string kind) => column.Annotations.Schema.GetColumnOrNull(kind) is not null;

    static void AddText(DataViewSchema.Annotations.Builder builder, string kind, string value)
    {
        var memory = value.AsMemory();
        builder.Add(kind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> dst) => dst = memory);
    }

    static void AddTrainingLabelValues<T>(DataViewSchema.Annotations.Builder builder, object keyValues, VectorDataViewType type)
    {
        var values = (VBuffer<T>)keyValues;
        builder.Add(AnnotationKinds.TrainingLabelValues, type, (ref VBuffer<T> dst) => values.CopyTo(ref dst));
    }
}

/// <summary>A data view that shows <see cref="Source"/> under a schema with the same columns but other annotations.</summary>
internal sealed class ReannotatedDataView : IDataView
{
    public ReannotatedDataView(IDataView source, DataViewSchema schema)
    {
        Source = source;
        Schema = schema;
    }

    public IDataView Source { get; }

    public DataViewSchema Schema { get; }

    public bool CanShuffle => Source.CanShuffle;

    public long? GetRowCount() => Source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new ReannotatedCursor(Source.GetRowCursor(ToSource(Source.Schema, columnsNeeded), rand), Schema);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        Source.GetRowCursorSet(ToSource(Source.Schema, columnsNeeded), n, rand)
            .Select(c => (DataViewRowCursor)new ReannotatedCursor(c, Schema)).ToArray();

    /// <summary>The same columns (by index) in the source schema.</summary>
    internal static IEnumerable<DataViewSchema.Column> ToSource(DataViewSchema source, IEnumerable<DataViewSchema.Column> columns) =>
        columns.Select(c => source[c.Index]).ToArray();
}

/// <summary>A cursor over the source's rows, reporting the re-annotated schema.</summary>
internal sealed class ReannotatedCursor : DataViewRowCursor
{
    readonly DataViewRowCursor _source;

    public ReannotatedCursor(DataViewRowCursor source, DataViewSchema schema)
    {
        _source = source;
        Schema = schema;
    }

    public override DataViewSchema Schema { get; }

    public override long Position => _source.Position;

    public override long Batch => _source.Batch;

    public override bool MoveNext() => _source.MoveNext();

    public override ValueGetter<DataViewRowId> GetIdGetter() => _source.GetIdGetter();

    public override bool IsColumnActive(DataViewSchema.Column column) => _source.IsColumnActive(_source.Schema[column.Index]);

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => _source.GetGetter<TValue>(_source.Schema[column.Index]);

    protected override void Dispose(bool disposing)
    {
        if (disposing) _source.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>A row of the source, reporting the re-annotated schema.</summary>
internal sealed class ReannotatedRow : DataViewRow
{
    readonly DataViewRow _source;

    public ReannotatedRow(DataViewRow source, DataViewSchema schema)
    {
        _source = source;
        Schema = schema;
    }

    public override DataViewSchema Schema { get; }

    public override long Position => _source.Position;

    public override long Batch => _source.Batch;

    public override ValueGetter<DataViewRowId> GetIdGetter() => _source.GetIdGetter();

    public override bool IsColumnActive(DataViewSchema.Column column) => _source.IsColumnActive(_source.Schema[column.Index]);

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => _source.GetGetter<TValue>(_source.Schema[column.Index]);

    protected override void Dispose(bool disposing)
    {
        if (disposing) _source.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>A row mapper (for PredictionEngine) whose output schema is re-annotated.</summary>
internal sealed class ReannotatedRowMapper : IRowToRowMapper
{
    readonly IRowToRowMapper _source;

    public ReannotatedRowMapper(IRowToRowMapper source, Func<DataViewSchema, DataViewSchema> annotate)
    {
        _source = source;
        OutputSchema = annotate(source.OutputSchema);
    }

    public DataViewSchema InputSchema => _source.InputSchema;

    public DataViewSchema OutputSchema { get; }

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns) =>
        _source.GetDependencies(ReannotatedDataView.ToSource(_source.OutputSchema, dependingColumns));

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns) =>
        new ReannotatedRow(_source.GetRow(input, ReannotatedDataView.ToSource(_source.OutputSchema, activeColumns)), OutputSchema);
}

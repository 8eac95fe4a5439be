using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.WeightSelection.MLNet;

/// <summary>
/// What the scoring chain's ONNX step adds to the pixel data (see <see cref="ScoringChain"/>), computed many rows at a
/// time: the same schema, the same values up to float rounding, one ONNX Runtime call per <see cref="BatchedStudent.BatchSize"/> rows.
/// </summary>
/// <remarks>
/// A row's cursor reads the rows it passes through on one cursor of the source, and the pixels a batch ahead on a second
/// cursor over the same source, which only decodes images. Both walk the same rows in the same order, because an
/// unshuffled cursor of an IDataView always does; so no pass-through value of any type has to be copied and held.
/// </remarks>
internal sealed class BatchedStudentView : IDataView
{
    readonly IDataView _source;
    readonly BatchedStudent _student;
    readonly int _pixelsPerRow;
    readonly int _classes;
    readonly DataViewSchema.Column _sourcePixels;

    BatchedStudentView(IDataView source, DataViewSchema schema, BatchedStudent student, int pixelsPerRow, int classes)
    {
        _source = source;
        Schema = schema;
        _student = student;
        _pixelsPerRow = pixelsPerRow;
        _classes = classes;
        _sourcePixels = source.Schema[PixelPipeline.PixelsColumn];
    }

    /// <summary>
    /// The view over <paramref name="pixelData"/> with <paramref name="onnxSchema"/> (the ONNX step's output schema on
    /// it), or null when that schema is not the one this view knows how to compute (then the caller scores row by row).
    /// </summary>
    public static BatchedStudentView? TryCreate(IDataView pixelData, DataViewSchema onnxSchema, BatchedStudent student) =>
        Shape(pixelData.Schema, onnxSchema) is var (pixels, classes) ? new BatchedStudentView(pixelData, onnxSchema, student, pixels, classes) : null;

    /// <summary>Whether this view can compute <paramref name="onnxSchema"/> from data of <paramref name="pixelSchema"/>.</summary>
    public static bool Fits(DataViewSchema pixelSchema, DataViewSchema onnxSchema) => Shape(pixelSchema, onnxSchema) is not null;

    /// <summary>Pixels per row and classes, when <paramref name="onnxSchema"/> is the pass-through of <paramref name="source"/> plus the ONNX step's four columns.</summary>
    static (int Pixels, int Classes)? Shape(DataViewSchema source, DataViewSchema onnxSchema)
    {
        if (source.GetColumnOrNull(PixelPipeline.PixelsColumn) is not { Type: VectorDataViewType { ItemType: var item, Size: > 0 and var pixels } } || item != NumberDataViewType.Single)
            return null;
        if (onnxSchema.Count != source.Count + Computed.Length + 1) return null;
        for (int i = 0; i < source.Count; i++)
            if (onnxSchema[i].Name != source[i].Name || !onnxSchema[i].Type.Equals(source[i].Type))
                return null;
        if (onnxSchema.GetColumnOrNull(ScoringChain.StudentInput) is not { Index: var inputIndex } || inputIndex < source.Count) return null;
        int classes = 0;
        foreach (var name in Computed)
        {
            if (onnxSchema.GetColumnOrNull(name) is not { Type: VectorDataViewType { ItemType: var t, Size: > 0 and var size } } column
                || column.Index < source.Count || t != NumberDataViewType.Single)
                return null;
            if (classes != 0 && size != classes) return null;
            classes = size;
        }
        return (pixels, classes);
    }

    /// <summary>The columns computed from the student's batched output: its probabilities, their copy, and the one-hot arg-max.</summary>
    static readonly string[] Computed = { ScoringChain.StudentOutput, ScoringChain.ProbabilitiesColumn, ScoringChain.OneHotColumn };

    /// <inheritdoc />
    public DataViewSchema Schema { get; }

    /// <summary>False: batches rely on two cursors seeing the rows in the same order.</summary>
    public bool CanShuffle => false;

    /// <inheritdoc />
    public long? GetRowCount() => _source.GetRowCount();

    /// <inheritdoc />
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.ToArray();
        bool scores = needed.Any(c => Computed.Contains(Schema[c.Index].Name));
        var passThrough = needed.Select(ToSource).Where(c => c is not null).Select(c => c!.Value).Distinct().ToArray();
        var main = _source.GetRowCursor(passThrough);
        try
        {
            var lead = scores ? _source.GetRowCursor(new[] { _sourcePixels }) : null;
            return new Cursor(this, main, lead, needed.Select(c => c.Index).ToHashSet());
        }
        catch
        {
            main.Dispose();
            throw;
        }
    }

    /// <summary>One cursor: batching already uses the cores inside ONNX Runtime.</summary>
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        new[] { GetRowCursor(columnsNeeded, rand) };

    /// <summary>The source column a column of this view reads, or null for one computed from the scores.</summary>
    DataViewSchema.Column? ToSource(DataViewSchema.Column column)
    {
        if (column.Index < _source.Schema.Count) return _source.Schema[column.Index];
        return Schema[column.Index].Name == ScoringChain.StudentInput ? _sourcePixels : null;
    }

    sealed class Cursor : DataViewRowCursor
    {
        readonly BatchedStudentView _view;
        readonly DataViewRowCursor _main;
        readonly DataViewRowCursor? _lead;
        readonly ValueGetter<VBuffer<float>>? _leadPixels;
        readonly HashSet<int> _active;
        readonly float[] _pixels;
        readonly float[] _probabilities;
        VBuffer<float> _row;
        int _inBatch;
        int _index = -1;

        public Cursor(BatchedStudentView view, DataViewRowCursor main, DataViewRowCursor? lead, HashSet<int> active)
        {
            _view = view;
            _main = main;
            _lead = lead;
            _active = active;
            _leadPixels = lead?.GetGetter<VBuffer<float>>(view._sourcePixels);
            int batch = view._student.BatchSize;
            _pixels = lead is null ? Array.Empty<float>() : new float[batch * view._pixelsPerRow];
            _probabilities = lead is null ? Array.Empty<float>() : new float[batch * view._classes];
        }

        public override DataViewSchema Schema => _view.Schema;

        public override long Position => _main.Position;

        public override long Batch => _main.Batch;

        public override bool MoveNext()
        {
            if (!_main.MoveNext()) return false;
            if (_lead is not null && ++_index >= _inBatch) ScoreNextBatch();
            return true;
        }

        void ScoreNextBatch()
        {
            int perRow = _view._pixelsPerRow, rows = 0;
            while (rows < _view._student.BatchSize && _lead!.MoveNext())
            {
                _leadPixels!(ref _row);
                if (_row.Length != perRow)
                    throw new InvalidOperationException($"Row {_lead.Position} has {_row.Length} pixel values; the student takes {perRow}.");
                _row.CopyTo(_pixels.AsSpan(rows * perRow, perRow));
                rows++;
            }
            if (rows == 0)
                throw new InvalidOperationException($"The data gave row {_main.Position} to one cursor but ended early on a second one; it must list the same rows on every pass.");
            _view._student.Run(_pixels, rows, perRow, _probabilities, _view._classes);
            _inBatch = rows;
            _index = 0;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => _main.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column))
                throw new InvalidOperationException($"Column '{column.Name}' was not requested from this cursor.");
            if (_view.ToSource(column) is { } source) return _main.GetGetter<TValue>(source);
            if (typeof(TValue) != typeof(VBuffer<float>))
                throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}; it cannot be read as {typeof(TValue).Name}.");
            ValueGetter<VBuffer<float>> getter = column.Name == ScoringChain.OneHotColumn ? OneHot : Probabilities;
            return (ValueGetter<TValue>)(Delegate)getter;
        }

        void Probabilities(ref VBuffer<float> value)
        {
            int k = _view._classes;
            var editor = VBufferEditor.Create(ref value, k);
            _probabilities.AsSpan(_index * k, k).CopyTo(editor.Values);
            value = editor.Commit();
        }

        // The first of equal maxima, as ONNX's ArgMax picks by default.
        void OneHot(ref VBuffer<float> value)
        {
            int k = _view._classes;
            var row = _probabilities.AsSpan(_index * k, k);
            int best = 0;
            for (int i = 1; i < k; i++)
                if (row[i] > row[best]) best = i;
            var editor = VBufferEditor.Create(ref value, k);
            editor.Values.Clear();
            editor.Values[best] = 1f;
            value = editor.Commit();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _main.Dispose();
                _lead?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

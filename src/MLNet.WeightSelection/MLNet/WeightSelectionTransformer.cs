using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.MLNet;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.Onnx;
using MLNet.WeightSelection.Selection;
using MLNet.WeightSelection.Training;

namespace MLNet.WeightSelection;

/// <summary>
/// The fitted model of <see cref="WeightSelectionEstimator"/>. It adds Score (one probability per class, in the label's
/// key order) and PredictedLabel (of the label's key type, so <c>MapKeyToValue</c> gives class names back).
/// Scoring runs through ML.NET's own transforms (resize, pixel extraction, <c>ApplyOnnxModel</c> on the student
/// exported to ONNX), so <c>mlContext.Model.Save/Load</c>, <c>Evaluate</c> and <c>PredictionEngine</c> work as for any
/// ML.NET model, and a loaded model needs ONNX Runtime but not libtorch.
/// </summary>
/// <remarks>
/// Saving writes <see cref="ScoringModel"/>, so <c>Model.Load</c> returns that chain of built-in transformers rather
/// than this type. It scores identically. Its Score column keeps SlotNames (the class names) and its PredictedLabel all
/// of a trainer's annotations; the other score annotations this transformer adds (ScoreColumnKind, ScoreValueKind,
/// ScoreColumnSetId, TrainingLabelValues) are not kept, because ML.NET's built-in parts cannot set them on a column
/// they did not compute. An image column of encoded bytes (<c>LoadRawImageBytes</c>) is decoded by a custom mapping:
/// call <c>mlContext.ComponentCatalog.RegisterAssembly(typeof(WeightSelectionEstimator).Assembly)</c> before loading such a model.
/// </remarks>
public sealed class WeightSelectionTransformer : ITransformer, IDisposable
{
    readonly TransformerChain<ITransformer> _scoring;
    readonly LabelColumn _label;
    readonly string _scoreColumn;
    readonly string _predictedLabelColumn;
    readonly ImageClassifier _student;
    readonly ITransformer _scorer; // _scoring itself, or it with the student batched (on the CPU)

    internal WeightSelectionTransformer(TransformerChain<ITransformer> scoring, BatchedStudent? batched, LabelColumn label, string scoreColumn, string predictedLabelColumn,
        ImageClassifier student, SelectionReport? selectionReport, TrainingResult training, int skippedImages,
        FittedRecipe recipe, TrainingResult? teacherAdaptation)
    {
        Recipe = recipe;
        TeacherAdaptation = teacherAdaptation;
        _scoring = scoring;
        _scorer = batched is null ? scoring : new BatchedScoringTransformer(scoring, batched);
        _label = label;
        _scoreColumn = scoreColumn;
        _predictedLabelColumn = predictedLabelColumn;
        _student = student;
        SelectionReport = selectionReport;
        Training = training;
        SkippedImages = skippedImages;
    }

    /// <summary>How every student tensor was selected from the teacher; null for <see cref="Initialization.Random"/>.</summary>
    public SelectionReport? SelectionReport { get; }

    /// <summary>The training outcome: per-epoch history, best epoch, early stopping, resume.</summary>
    public TrainingResult Training { get; }

    /// <summary>
    /// The recipe the student trained with: every setting, whether it was set or fitted to the data, and why
    /// (<see cref="FittedRecipe.Summary"/> is the line <c>Fit</c> logged).
    /// </summary>
    public FittedRecipe Recipe { get; }

    /// <summary>The teacher's adaptation run (per-epoch history), or null when the teacher was used as given.</summary>
    public TrainingResult? TeacherAdaptation { get; }

    /// <summary>Metrics of every epoch, in order.</summary>
    public IReadOnlyList<EpochMetrics> History => Training.History;

    /// <summary>Rows skipped as unreadable images (training and validation data), with SkipUnreadableImages.</summary>
    public int SkippedImages { get; }

    /// <summary>
    /// The trained student's architecture: classes, image size and the input convention it was trained with (its
    /// teacher's, when inherited), so <c>StudentSpec.CreateModel()</c> plus the saved weights rebuilds it exactly.
    /// </summary>
    public ModelSpec StudentSpec => _student.Spec with { Input = _student.Input };

    /// <summary>The chain of built-in ML.NET transformers that scores, and that <c>Model.Save</c> writes.</summary>
    public ITransformer ScoringModel => _scoring;

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <summary>
    /// Saves the trained student's weights as safetensors under timm's names (loadable by timm's
    /// <c>create_model(..., pretrained_cfg_overlay=dict(file=path))</c> or <c>load_state_dict</c>). Written to a temporary
    /// file and renamed, so no partial file is left.
    /// </summary>
    public void SaveStudentSafetensors(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var weights = StateDict.FromModule(_student, "trained student");
        SafeTensorsWriter.Save(path, weights, new Dictionary<string, string> { ["format"] = "pt" });
    }

    /// <summary>
    /// Exports the trained student as ONNX: float <c>[N, 3, S, S]</c> raw 0–255 planar pixels in (what <c>ExtractPixels</c>
    /// gives), normalization inside, class probabilities out (and pooled features, unless disabled in <paramref name="options"/>).
    /// </summary>
    public void ExportOnnx(string path, OnnxExportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        OnnxExporter.Export(_student, path, options);
    }

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => Annotate(_scoring.GetOutputSchema(inputSchema));

    /// <summary>
    /// Scores <paramref name="input"/> lazily, like any ML.NET transformer. On the CPU the student runs on 64 rows per
    /// ONNX Runtime call rather than one (the values are those of <see cref="ScoringModel"/>, up to float rounding), so
    /// scoring a large data view here is several times faster than through the saved model. Single predictions
    /// (<c>PredictionEngine</c>) go row by row through <see cref="ScoringModel"/>.
    /// </summary>
    public IDataView Transform(IDataView input)
    {
        var scored = _scorer.Transform(input);
        return new ReannotatedDataView(scored, Annotate(scored.Schema));
    }

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) =>
        new ReannotatedRowMapper(((ITransformer)_scoring).GetRowToRowMapper(inputSchema), Annotate);

    /// <summary>Writes <see cref="ScoringModel"/>: a model of ML.NET's own parts, loadable without this library's types.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => ((ICanSaveModel)_scoring).Save(ctx);

    /// <summary>Releases the student's native tensors and the batched scoring session.</summary>
    public void Dispose()
    {
        _student.Dispose();
        (_scorer as IDisposable)?.Dispose();
    }

    DataViewSchema Annotate(DataViewSchema schema) => ScoreAnnotations.Annotate(schema, _scoreColumn, _predictedLabelColumn, _label);
}

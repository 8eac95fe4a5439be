using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.WeightSelection.MLNet.Onnx;

namespace MLNet.WeightSelection.MLNet;

/// <summary>
/// Assembles the fitted model from ML.NET's own saveable transforms, so <c>Model.Save/Load</c>, <c>Evaluate</c> and
/// <c>PredictionEngine</c> work unchanged and a loaded model scores without libtorch:
/// pixels (<see cref="PixelPipeline"/>) → the student as ONNX → the head graph (<see cref="ScoreHeadGraph"/>: probabilities
/// with SlotNames, one-hot arg-max) → the arg-max lookup (<see cref="ArgMaxKeyHead"/>: a key-typed PredictedLabel) →
/// Score and PredictedLabel under the requested names, temporary columns dropped.
/// </summary>
internal static class ScoringChain
{
    /// <summary>Name the student's ONNX input must have: float <c>[N, 3, S, S]</c>, planar 0–255 pixels.</summary>
    public const string StudentInput = "WeightSelection.StudentInput";

    /// <summary>Name the student's ONNX probabilities output must have: float <c>[N, K]</c>.</summary>
    public const string StudentOutput = "WeightSelection.StudentOutput";

    /// <summary>The head's probabilities <c>[K]</c>, which become Score.</summary>
    public const string ProbabilitiesColumn = "WeightSelection.Probabilities";

    /// <summary>The head's one-hot arg-max <c>[K]</c>, which <see cref="ArgMaxKeyHead"/> turns into PredictedLabel.</summary>
    public const string OneHotColumn = "WeightSelection.ArgMaxOneHot";

    /// <summary>Builds the scoring chain.</summary>
    /// <param name="ml">Context the transforms are created in.</param>
    /// <param name="pixels">The fitted pixel steps; <paramref name="pixelData"/> is their output on the training data.</param>
    /// <param name="pixelTemporaries">Columns the pixel steps add, dropped at the end.</param>
    /// <param name="pixelData">Any data with the pixel steps' output schema (only its schema is used).</param>
    /// <param name="studentOnnx">The student as ONNX: <see cref="StudentInput"/> (float <c>[N, 3, S, S]</c>, 0–255 pixels) in,
    /// <see cref="StudentOutput"/> (<c>[N, K]</c> probabilities) out. Tensor names become column names, so they are reserved
    /// names that cannot collide with the user's columns.</param>
    /// <param name="label">The label, whose key type and values PredictedLabel takes.</param>
    /// <param name="scoreColumn">Name of the Score column to add.</param>
    /// <param name="predictedLabelColumn">Name of the PredictedLabel column to add.</param>
    /// <param name="gpu">GPU device and fallback for ONNX Runtime (from the MLContext).</param>
    public static TransformerChain<ITransformer> Build(MLContext ml, ITransformer pixels, IReadOnlyList<string> pixelTemporaries,
        IDataView pixelData, byte[] studentOnnx, LabelColumn label, string scoreColumn, string predictedLabelColumn,
        (int? GpuDeviceId, bool FallbackToCpu) gpu)
    {
        if (scoreColumn == predictedLabelColumn)
            throw new ArgumentException($"ScoreColumnName and PredictedLabelColumnName are both '{scoreColumn}'; they must differ.");

        var head = ScoreHeadGraph.Build(StudentOutput, label.ClassCount, ProbabilitiesColumn, OneHotColumn, label.TextNames);

        var onnx = ml.Transforms.CopyColumns(StudentInput, PixelPipeline.PixelsColumn)
            .Append(ml.Transforms.ApplyOnnxModel(new[] { StudentOutput }, new[] { StudentInput }, new MemoryStream(studentOnnx), gpu.GpuDeviceId, gpu.FallbackToCpu))
            .Append(ml.Transforms.ApplyOnnxModel(new[] { ProbabilitiesColumn, OneHotColumn }, new[] { StudentOutput }, new MemoryStream(head), gpu.GpuDeviceId, gpu.FallbackToCpu))
            .Fit(pixelData);
        var onnxData = onnx.Transform(pixelData);
        CheckClassCount(onnxData.Schema[ProbabilitiesColumn], label.ClassCount);

        var argMax = ArgMaxKeyHead.Fit(ml, label, OneHotColumn);
        var argMaxData = argMax.Transform(onnxData);

        IEstimator<ITransformer> finish = ml.Transforms.CopyColumns(scoreColumn, ProbabilitiesColumn);
        if (predictedLabelColumn != ArgMaxKeyHead.DefaultPredictedLabel)
            finish = finish.Append(ml.Transforms.CopyColumns(predictedLabelColumn, ArgMaxKeyHead.DefaultPredictedLabel));
        var drop = pixelTemporaries.Concat(new[] { StudentInput, StudentOutput, ProbabilitiesColumn, OneHotColumn }).ToList();
        if (scoreColumn != ArgMaxKeyHead.DefaultScore && predictedLabelColumn != ArgMaxKeyHead.DefaultScore) drop.Add(ArgMaxKeyHead.DefaultScore);
        if (predictedLabelColumn != ArgMaxKeyHead.DefaultPredictedLabel && scoreColumn != ArgMaxKeyHead.DefaultPredictedLabel) drop.Add(ArgMaxKeyHead.DefaultPredictedLabel);
        finish = finish.Append(ml.Transforms.DropColumns(drop.Distinct().ToArray()));
        var tail = finish.Fit(argMaxData);

        return new TransformerChain<ITransformer>(pixels, onnx, argMax, tail);
    }

    /// <summary>
    /// Scores like <paramref name="scoring"/> (a chain from <see cref="Build"/>), with the student run on
    /// <see cref="BatchedStudent.BatchSize"/> rows per ONNX Runtime call instead of one: the pixel steps, the lookup to
    /// PredictedLabel and the final renames are the chain's own fitted transformers.
    /// </summary>
    public static IDataView TransformBatched(TransformerChain<ITransformer> scoring, BatchedStudent student, IDataView input)
    {
        if (!IsScoringChain(scoring)) return scoring.Transform(input);
        var parts = scoring.ToArray();
        var (pixels, onnx, argMax, tail) = (parts[0], parts[1], parts[2], parts[3]);
        var pixelData = pixels.Transform(input);
        var batched = BatchedStudentView.TryCreate(pixelData, onnx.GetOutputSchema(pixelData.Schema), student);
        return batched is null ? scoring.Transform(input) : tail.Transform(argMax.Transform(batched));
    }

    /// <summary>
    /// Whether <paramref name="chain"/> has the parts of a chain from <see cref="Build"/>: pixel steps, then a copy and two
    /// <c>ApplyOnnxModel</c> steps, then two more. Structure only, as a loaded model's saved schema may lack the image
    /// column; <see cref="TransformBatched"/> checks the columns on the data and scores row by row when they differ.
    /// </summary>
    public static bool IsScoringChain(TransformerChain<ITransformer> chain)
    {
        var parts = chain.ToArray();
        // A fitted chain types its parts by their last transformer (TransformerChain<OnnxTransformer>); a loaded one does not.
        return parts.Length == 4 && parts[1] is IEnumerable<ITransformer> onnx
            && onnx.ToArray() is [_, Microsoft.ML.Transforms.Onnx.OnnxTransformer, Microsoft.ML.Transforms.Onnx.OnnxTransformer];
    }

    static void CheckClassCount(DataViewSchema.Column probabilities, int classCount)
    {
        if (probabilities.Type is not VectorDataViewType { Size: var size } || size != classCount)
            throw new InvalidOperationException(
                $"The student's ONNX output gives {probabilities.Type} but the label has {classCount} classes.");
    }
}

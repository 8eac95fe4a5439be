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

    const string Probabilities = "WeightSelection.Probabilities";
    const string OneHot = "WeightSelection.ArgMaxOneHot";

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

        var head = ScoreHeadGraph.Build(StudentOutput, label.ClassCount, Probabilities, OneHot, label.TextNames);

        var onnx = ml.Transforms.CopyColumns(StudentInput, PixelPipeline.PixelsColumn)
            .Append(ml.Transforms.ApplyOnnxModel(new[] { StudentOutput }, new[] { StudentInput }, new MemoryStream(studentOnnx), gpu.GpuDeviceId, gpu.FallbackToCpu))
            .Append(ml.Transforms.ApplyOnnxModel(new[] { Probabilities, OneHot }, new[] { StudentOutput }, new MemoryStream(head), gpu.GpuDeviceId, gpu.FallbackToCpu))
            .Fit(pixelData);
        var onnxData = onnx.Transform(pixelData);
        CheckClassCount(onnxData.Schema[Probabilities], label.ClassCount);

        var argMax = ArgMaxKeyHead.Fit(ml, label, OneHot);
        var argMaxData = argMax.Transform(onnxData);

        IEstimator<ITransformer> finish = ml.Transforms.CopyColumns(scoreColumn, Probabilities);
        if (predictedLabelColumn != ArgMaxKeyHead.DefaultPredictedLabel)
            finish = finish.Append(ml.Transforms.CopyColumns(predictedLabelColumn, ArgMaxKeyHead.DefaultPredictedLabel));
        var drop = pixelTemporaries.Concat(new[] { StudentInput, StudentOutput, Probabilities, OneHot }).ToList();
        if (scoreColumn != ArgMaxKeyHead.DefaultScore && predictedLabelColumn != ArgMaxKeyHead.DefaultScore) drop.Add(ArgMaxKeyHead.DefaultScore);
        if (predictedLabelColumn != ArgMaxKeyHead.DefaultPredictedLabel && scoreColumn != ArgMaxKeyHead.DefaultPredictedLabel) drop.Add(ArgMaxKeyHead.DefaultPredictedLabel);
        finish = finish.Append(ml.Transforms.DropColumns(drop.Distinct().ToArray()));
        var tail = finish.Fit(argMaxData);

        return new TransformerChain<ITransformer>(pixels, onnx, argMax, tail);
    }

    static void CheckClassCount(DataViewSchema.Column probabilities, int classCount)
    {
        if (probabilities.Type is not VectorDataViewType { Size: var size } || size != classCount)
            throw new InvalidOperationException(
                $"The student's ONNX output gives {probabilities.Type} but the label has {classCount} classes.");
    }
}

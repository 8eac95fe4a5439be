using Microsoft.ML;
using MLNet.WeightSelection.Cli.Infrastructure;
using Spectre.Console;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>The work of <c>ws evaluate</c>: load model.zip with ML.NET (scoring in batches), score the images, print the metrics.</summary>
internal static class EvaluateRunner
{
    public static int Run(EvaluateRequest request, CliContext context)
    {
        string path = Path.GetFullPath(request.Model);
        if (!File.Exists(path)) throw new CliException($"--model: no file at '{path}'.");
        var rows = ImageFolder.LoadEvaluation(request.Data, "--data");
        var ml = new MLContext(seed: 0);
        ITransformer model;
        try
        {
            // Batched: evaluating scores every image, and a plain Load would call ONNX Runtime once per image.
            model = ml.Model.LoadWithBatchedScoring(path, out _);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or InvalidDataException or IOException
            or System.Reflection.TargetInvocationException)
        {
            throw new CliException($"--model: '{path}' is not a loadable ML.NET model ({e.GetBaseException().Message}).", e);
        }
        context.Out.WriteLine($"Model: {path}");
        context.Out.WriteLine($"Data: {Path.GetFullPath(request.Data)}");
        EvaluationTables.Write(context.Out, ModelEvaluation.Evaluate(ml, model, rows));
        return ExitCodes.Success;
    }
}

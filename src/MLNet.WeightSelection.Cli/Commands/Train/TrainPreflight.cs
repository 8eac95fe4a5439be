using System.Runtime.InteropServices;
using MLNet.WeightSelection.Cli.Infrastructure;
using MLNet.WeightSelection.MLNet;
using MLNet.WeightSelection.Training;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>
/// What <c>ws train</c> needs at the end, checked before it reads a single image: write access to --out,
/// --checkpoint-dir and --pixel-cache (without creating any), and ONNX Runtime's native library, which scores the fitted model.
/// </summary>
internal static class TrainPreflight
{
    /// <summary>Runs every check; returns the full path of --out.</summary>
    public static string Check(TrainRequest request)
    {
        string outFolder = WritableFolder.Check(request.Out, "--out");
        if (request.CheckpointDir is { } checkpoints) WritableFolder.Check(checkpoints, "--checkpoint-dir");
        if (request.PixelCache is { } pixelCache) WritableFolder.Check(pixelCache, "--pixel-cache");
        try
        {
            OnnxRuntimeAvailability.Ensure();
        }
        catch (InvalidOperationException e)
        {
            // The library's message tells an app to add a package; a tool user can only install a complete tool.
            throw new CliException(
                $"ONNX Runtime's native library (onnxruntime) cannot be loaded on {RuntimeInformation.RuntimeIdentifier}, and ws needs it to score "
                + "and evaluate the trained model. Install a ws package that carries it for this platform (from Microsoft.ML.OnnxRuntime's "
                + $"runtimes/{RuntimeInformation.RuntimeIdentifier}/native). ({e.InnerException?.Message ?? e.Message})", e);
        }
        return outFolder;
    }

    /// <summary>
    /// True when <paramref name="folder"/> holds a training checkpoint that a rerun resumes from: the student's, or the
    /// teacher adaptation's, which the estimator keeps in a subfolder.
    /// </summary>
    public static bool HasCheckpoint(string folder) =>
        Directory.Exists(folder) && Directory.EnumerateFiles(folder, TrainingCheckpoint.FileName, SearchOption.AllDirectories).Any();
}

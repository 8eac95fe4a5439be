using MLNet.WeightSelection.Training;

namespace ImageClassification;

/// <summary>The validation-accuracy curves of the runs as a PNG (drawn by ScottPlot in the plotting plugin).</summary>
public static class AccuracyCurves
{
    /// <summary>Writes one curve per run, validation accuracy in percent against the epoch.</summary>
    /// <param name="path">The PNG to write (atomically).</param>
    /// <param name="title">Chart title.</param>
    /// <param name="runs">Each run's name and per-epoch metrics.</param>
    public static void SavePng(string path, string title, IReadOnlyList<(string Name, IReadOnlyList<EpochMetrics> History)> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var png = PlottingPlugin.RenderPng(
            title,
            runs.Select(r => r.Name).ToArray(),
            runs.Select(r => r.History.Select(m => (double)m.Epoch).ToArray()).ToArray(),
            runs.Select(r => r.History.Select(m => m.ValidationAccuracy * 100).ToArray()).ToArray(),
            "epoch", "validation accuracy (%)", width: 800, height: 500);
        OutputFile.Write(path, png);
    }
}

using ScottPlot;

namespace ImageClassification.Plotting;

/// <summary>
/// Draws validation-accuracy curves with ScottPlot. Only primitive types cross the plugin boundary, so the host can
/// call it from another load context through a delegate of <see cref="Func{T1, T2, T3, T4, T5, T6, T7, T8, TResult}"/>.
/// </summary>
public static class AccuracyChart
{
    /// <summary>Renders one line per series and returns the PNG bytes.</summary>
    /// <param name="title">Chart title.</param>
    /// <param name="names">Legend text of each series.</param>
    /// <param name="epochs">X values (epoch numbers) of each series.</param>
    /// <param name="accuracyPercent">Y values (validation accuracy in percent) of each series.</param>
    /// <param name="xLabel">X axis label.</param>
    /// <param name="yLabel">Y axis label.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    public static byte[] RenderPng(string title, string[] names, double[][] epochs, double[][] accuracyPercent,
        string xLabel, string yLabel, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(epochs);
        ArgumentNullException.ThrowIfNull(accuracyPercent);
        if (names.Length != epochs.Length || names.Length != accuracyPercent.Length)
            throw new ArgumentException($"{names.Length} names, {epochs.Length} x series and {accuracyPercent.Length} y series: they must match.");

        var plot = new Plot();
        for (int i = 0; i < names.Length; i++)
        {
            if (epochs[i].Length != accuracyPercent[i].Length)
                throw new ArgumentException($"Series '{names[i]}' has {epochs[i].Length} x values and {accuracyPercent[i].Length} y values.");
            if (epochs[i].Length == 0) continue;
            var line = plot.Add.Scatter(epochs[i], accuracyPercent[i]);
            line.LegendText = names[i];
            line.LineWidth = 2;
            line.MarkerSize = 6;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.LowerRight);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Axes.AutoScale();
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }
}

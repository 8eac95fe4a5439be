namespace MLNet.WeightSelection.Models.Onnx;

/// <summary>The input convention as graph nodes: reorder the planes, then one Mul and one Add per channel.</summary>
internal static class OnnxNormalization
{
    /// <summary>
    /// Turns raw planes (0–255, in <paramref name="pixelOrder"/>) into the model's input: (x / scale − mean) / std in the
    /// convention's channel order, written as x · a + b with a = 1 / (scale · std), b = −mean / std.
    /// </summary>
    public static string Add(OnnxGraphBuilder g, string x, InputConvention input, ChannelOrder pixelOrder, int channels)
    {
        if (input.Mean.Length != channels || input.Std.Length != channels)
            throw new ArgumentException($"The input convention has {input.Mean.Length} means and {input.Std.Length} stds for {channels} input channels.");
        if (input.Order != pixelOrder)
        {
            if (channels != 3) throw new ArgumentException($"Channel order applies to 3-channel images; the model has {channels}.");
            x = g.Node("Gather", "reorder_channels", new[] { x, g.Longs("reverse_channels", new long[] { 2, 1, 0 }, 3) }, ("axis", 1L));
        }
        var a = new float[channels];
        var b = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            a[c] = (float)(1.0 / ((double)input.Scale * input.Std[c]));
            b[c] = (float)(-(double)input.Mean[c] / input.Std[c]);
        }
        x = g.Node("Mul", "normalize", new[] { x, g.Floats("normalize_scale", a, 1, channels, 1, 1) });
        return g.Node("Add", "normalize", new[] { x, g.Floats("normalize_shift", b, 1, channels, 1, 1) });
    }
}

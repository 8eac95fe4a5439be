using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Training;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Training;

public class InputNormalizationTests
{
    [Fact]
    public void AppliesScaleMeanAndStdPerChannel()
    {
        using var pixels = tensor(new byte[] { 0, 255, 128, 64, 255, 0 }, new long[] { 1, 3, 1, 2 });
        using var x = InputNormalization.Apply(pixels, InputConvention.ImageNet);
        Assert.Equal(ScalarType.Float32, x.dtype);
        var v = x.data<float>().ToArray();
        var mean = InputConvention.ImageNet.Mean;
        var std = InputConvention.ImageNet.Std;
        var raw = new[] { 0, 255, 128, 64, 255, 0 };
        for (int i = 0; i < 6; i++) Assert.Equal((raw[i] / 255.0 - mean[i / 2]) / std[i / 2], v[i], 5);
    }

    [Fact]
    public void BgrConventionReversesThePlanesBeforeNormalizing()
    {
        var bgr = new InputConvention(ChannelOrder.Bgr, 1f, new[] { 100f, 10f, 1f }, new[] { 2f, 2f, 2f });
        using var pixels = tensor(new float[] { 10, 20, 30 }, new long[] { 1, 3, 1, 1 }); // R, G, B
        using var x = InputNormalization.Apply(pixels, bgr);
        // Planes become B, G, R = 30, 20, 10.
        Assert.Equal(new[] { (30 - 100) / 2f, (20 - 10) / 2f, (10 - 1) / 2f }, x.data<float>().ToArray());
    }

    [Fact]
    public void RejectsWrongShapesAndTypes()
    {
        using var gray = zeros(new long[] { 2, 1, 4, 4 }, ScalarType.Byte);
        Assert.Contains("[B, 3, H, W]", Assert.Throws<ArgumentException>(() => InputNormalization.Apply(gray, InputConvention.ImageNet)).Message);
        using var ints = zeros(new long[] { 2, 3, 4, 4 }, ScalarType.Int32);
        Assert.Throws<ArgumentException>(() => InputNormalization.Apply(ints, InputConvention.ImageNet));
    }
}

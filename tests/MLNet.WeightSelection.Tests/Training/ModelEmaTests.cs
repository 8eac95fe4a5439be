using MLNet.WeightSelection.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Training;

public class ModelEmaTests
{
    [Fact]
    public void DecayWarmsUpAsTimmsModelEmaV3()
    {
        var ema = new EmaOptions();
        Assert.Equal(0.9998, ema.Decay);
        Assert.True(ema.Warmup);
        // timm: n = step − 1 updates before this one; decay 0 while n ≤ 0, then 1 − (1 + n)^(−2/3), capped at Decay.
        Assert.Equal(0.0, ema.DecayAt(0));
        Assert.Equal(0.0, ema.DecayAt(1));
        Assert.Equal(1 - 0.629960524947437, ema.DecayAt(2), 12);      // 2^(−2/3)
        Assert.Equal(1 - 0.215443469003188, ema.DecayAt(10), 12);     // 10^(−2/3)
        Assert.Equal(0.9998, ema.DecayAt(10_000_000));                // 1 − 1e7^(−2/3) ≈ 0.99998, capped

        var plain = new EmaOptions { Decay = 0.9, Warmup = false };
        Assert.Equal(0.0, plain.DecayAt(1));
        Assert.Equal(0.9, plain.DecayAt(2));
        Assert.Equal(0.9, plain.DecayAt(10));

        var steeper = new EmaOptions { WarmupPower = 0.75 };
        Assert.Equal(1 - Math.Pow(10, -0.75), steeper.DecayAt(10), 12);
    }

    [Theory]
    [InlineData(1.0, 2.0 / 3.0, "Ema.Decay")]
    [InlineData(-0.1, 2.0 / 3.0, "Ema.Decay")]
    [InlineData(double.NaN, 2.0 / 3.0, "Ema.Decay")]
    [InlineData(0.99, 0.0, "Ema.WarmupPower")]
    [InlineData(0.99, double.PositiveInfinity, "Ema.WarmupPower")]
    public void OutOfRangeOptionsAreRefusedByName(double decay, double power, string name)
    {
        var options = new TrainingOptions { Ema = new EmaOptions { Decay = decay, WarmupPower = power } };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(name, error.Message);
    }

    [Fact]
    public void ParametersAndFloatBuffersAreAveragedAndCountsCopied()
    {
        using var bn = nn.BatchNorm1d(2);
        Set(bn, weight: new[] { 1f, 2f }, mean: new[] { 0f, 4f }, count: 0);
        using var ema = new ModelEma(bn, new EmaOptions { Decay = 0.9, Warmup = false });

        // Step 1: the average becomes a copy of the model.
        Set(bn, weight: new[] { 11f, 12f }, mean: new[] { 10f, 14f }, count: 3);
        ema.Update(bn, step: 1);
        Assert.Equal(new[] { 11f, 12f }, Values(ema.State["weight"]));
        Assert.Equal(new[] { 10f, 14f }, Values(ema.State["running_mean"]));
        Assert.Equal(3L, ema.State["num_batches_tracked"].item<long>());

        // Step 2: 0.9 · average + 0.1 · model, for parameters and running statistics alike; the count is copied.
        Set(bn, weight: new[] { 21f, 22f }, mean: new[] { 20f, 24f }, count: 5);
        ema.Update(bn, step: 2);
        AssertClose(new[] { 12f, 13f }, Values(ema.State["weight"]));
        AssertClose(new[] { 11f, 15f }, Values(ema.State["running_mean"]));
        AssertClose(new[] { 1f, 1f }, Values(ema.State["running_var"]));
        Assert.Equal(5L, ema.State["num_batches_tracked"].item<long>());
        Assert.Equal(new[] { 21f, 22f }, Values(bn.weight!));          // the model is not touched
    }

    [Fact]
    public void WarmupDecayIsAppliedAtTheGivenStep()
    {
        using var bn = nn.BatchNorm1d(1);
        Set(bn, weight: new[] { 0f }, mean: new[] { 0f }, count: 0);
        var options = new EmaOptions();
        using var ema = new ModelEma(bn, options);
        Set(bn, weight: new[] { 1f }, mean: new[] { 2f }, count: 1);
        ema.Update(bn, step: 10);
        double d = options.DecayAt(10);
        AssertClose(new[] { (float)(1 - d) }, Values(ema.State["weight"]));
        AssertClose(new[] { (float)(2 * (1 - d)) }, Values(ema.State["running_mean"]));
    }

    [Fact]
    public void SwapExchangesAndRestoresAndCopyOverwrites()
    {
        using var bn = nn.BatchNorm1d(2);
        Set(bn, weight: new[] { 1f, 2f }, mean: new[] { 3f, 4f }, count: 7);
        using var ema = new ModelEma(bn, new EmaOptions());
        Set(bn, weight: new[] { 5f, 6f }, mean: new[] { 7f, 8f }, count: 9);

        ema.SwapWith(bn);
        Assert.Equal(new[] { 1f, 2f }, Values(bn.weight!));
        Assert.Equal(new[] { 3f, 4f }, Values(bn.running_mean!));
        Assert.Equal(new[] { 5f, 6f }, Values(ema.State["weight"]));
        ema.SwapWith(bn);
        Assert.Equal(new[] { 5f, 6f }, Values(bn.weight!));
        Assert.Equal(9L, bn.num_batches_tracked!.item<long>());
        Assert.Equal(new[] { 1f, 2f }, Values(ema.State["weight"]));

        ema.CopyTo(bn);
        Assert.Equal(new[] { 1f, 2f }, Values(bn.weight!));
        Assert.Equal(7L, bn.num_batches_tracked!.item<long>());
        Assert.True(bn.weight!.requires_grad); // copied in place: still the same trainable parameter
    }

    [Fact]
    public void LoadRefusesAStateOfAnotherShapeNamingTheKey()
    {
        using var bn = nn.BatchNorm1d(2);
        using var ema = new ModelEma(bn, new EmaOptions());
        using var other = nn.BatchNorm1d(3);
        var source = other.state_dict();
        var error = Assert.Throws<InvalidDataException>(() => ema.Load(source, "some.bin"));
        Assert.Contains("some.bin", error.Message);
        Assert.Contains("'weight'", error.Message);
    }

    static void Set(TorchSharp.Modules.BatchNorm1d bn, float[] weight, float[] mean, long count)
    {
        using var _ = no_grad();
        bn.weight!.copy_(tensor(weight));
        bn.running_mean!.copy_(tensor(mean));
        bn.num_batches_tracked!.fill_(count);
    }

    static float[] Values(Tensor t) => t.detach().data<float>().ToArray();

    static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 5);
    }
}

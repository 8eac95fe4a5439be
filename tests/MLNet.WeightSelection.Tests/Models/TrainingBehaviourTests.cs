using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.ConvNeXt;
using MLNet.WeightSelection.Models.Layers;
using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Models.Vit;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Models;

/// <summary>Stochastic depth and dropout act in train mode only, with timm's per-block rates.</summary>
public class TrainingBehaviourTests
{
    public static IEnumerable<object[]> Families => new[]
    {
        new object[] { "vit" }, new object[] { "convnext" }, new object[] { "resnet" },
    };

    static ModelSpec Tiny(string family, double dropPath, double drop) => family switch
    {
        "vit" => new VisionTransformerSpec { ImageSize = 16, PatchSize = 4, EmbedDim = 16, Depth = 3, NumHeads = 2, NumClasses = 4, DropPathRate = dropPath, DropRate = drop },
        "convnext" => new ConvNeXtSpec { Depths = new[] { 1, 1, 2, 1 }, Dims = new[] { 4, 8, 8, 8 }, NumClasses = 4, LsInitValue = 1.0, DropPathRate = dropPath, DropRate = drop },
        _ => new ResNetSpec { Layers = new[] { 2, 1, 1, 2 }, Channels = new[] { 4, 8, 8, 8 }, NumClasses = 4, ZeroInitLast = false, DropPathRate = dropPath, DropRate = drop },
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void DropPathAndDropoutVaryInTrainModeOnly(string family)
    {
        torch.manual_seed(11);
        using var model = Tiny(family, dropPath: 0.5, drop: 0.5).CreateModel();
        using var plain = Tiny(family, 0, 0).CreateModel();
        using (var weights = StateDict.FromModule(model)) plain.LoadStateDict(weights);
        int size = family == "vit" ? 16 : 32;
        using var x = randn(8, 3, size, size);

        model.eval();
        plain.eval();
        using (no_grad())
        {
            using var e1 = model.call(x);
            using var e2 = model.call(x);
            using var reference = plain.call(x);
            TensorAssert.Equal(e1, e2, "eval is deterministic");
            TensorAssert.Equal(reference, e1, "eval equals the drop-free model");
        }

        model.train();
        using (no_grad())
        {
            using var t1 = model.call(x);
            using var t2 = model.call(x);
            Assert.False(t1.allclose(t2), "train mode with drop rates > 0 should vary between calls");
        }
    }

    [Fact]
    public void DropPathRatesIncreaseLinearlyPerBlockLikeTimm()
    {
        using var vit = (VisionTransformer)Tiny("vit", 0.2, 0).CreateModel();
        Assert.Equal(new[] { 0.0, 0.1, 0.2 }, vit.Blocks.Select(b => Math.Round(b.DropPathRate, 6)));

        using var convnext = (ConvNeXt)Tiny("convnext", 0.4, 0).CreateModel();
        var rates = convnext.Stages.SelectMany(s => s.Blocks).Select(b => Math.Round(b.DropPathRate, 6)).ToArray();
        Assert.Equal(new[] { 0.0, 0.1, 0.2, 0.3, 0.4 }, rates);

        using var resnet = (ResNet)Tiny("resnet", 0.5, 0).CreateModel();
        var resnetRates = resnet.Stages.SelectMany(s => s).Select(b => b switch
        {
            BasicBlock basic => basic.DropPathRate,
            Bottleneck bottleneck => bottleneck.DropPathRate,
            _ => double.NaN,
        }).Select(r => Math.Round(r, 6)).ToArray();
        Assert.Equal(new[] { 0.0, 0.1, 0.2, 0.3, 0.4, 0.5 }, resnetRates);
    }

    [Fact]
    public void DropPathDropsWholeSamplesAndRescalesTheKeptOnes()
    {
        torch.manual_seed(5);
        using var ones = torch.ones(4000, 3, 2);
        using var module = new DropPath(0.25);
        module.train();
        using var y = module.call(ones);
        using var perSample = y.amax(new long[] { 1, 2 });
        using var minPerSample = y.amin(new long[] { 1, 2 });
        TensorAssert.Equal(perSample, minPerSample, "a sample is dropped or kept as a whole");
        using var kept = perSample.gt(0);
        double keptFraction = kept.to_type(ScalarType.Float32).mean().item<float>();
        Assert.InRange(keptFraction, 0.72, 0.78);
        Assert.Equal(1f / 0.75f, perSample.max().item<float>(), 5);

        module.eval();
        using var same = module.call(ones);
        TensorAssert.Equal(ones, same, "eval mode is the identity");
        Assert.Throws<ArgumentOutOfRangeException>(() => new DropPath(1.0));
    }
}

using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Onnx;

/// <summary>Imports ML.NET's pretrained ResNet-18 (CNTK export) once for the tests below.</summary>
public sealed class CntkResNet18Fixture : IDisposable
{
    public CntkResNet18Fixture() => Import = OnnxResNetImporter.Import(Resnet18Files.Model);

    public OnnxResNetImport Import { get; }

    public void Dispose() => Import.Dispose();
}

public sealed class CntkResNet18ImportTests : IClassFixture<CntkResNet18Fixture>
{
    readonly OnnxResNetImport _import;

    public CntkResNet18ImportTests(CntkResNet18Fixture fixture) => _import = fixture.Import;

    [Fact]
    public void DetectsResNet18WithoutClassifier()
    {
        var a = _import.Spec;
        Assert.Equal(ResNetBlock.Basic, a.Block);
        // CNTK's "ResNet-18" has a third block in its last stage: 22 convs where timm's resnet18 has 20.
        Assert.Equal(new[] { 2, 2, 2, 3 }, a.Layers);
        Assert.Equal(new[] { 64, 128, 256, 512 }, a.Channels);
        Assert.Null(a.PlainStemWidth); // timm's plain stem of 64 channels
        Assert.Equal(3, a.InChans);
        Assert.Equal(224, a.ImageSize);
        Assert.Equal(0, a.NumClasses);
        Assert.False(_import.HasClassifier);
        Assert.Equal((224, 224), _import.ImageSize);
        Assert.Contains(_import.Notes, n => n.Contains("No classifier"));
    }

    [Fact]
    public void NamesEveryTensorAsTimmsResNet18()
    {
        var keys = _import.Weights.Keys;
        // 22 convs (stem, 9 basic blocks, 3 downsamples), each with a BatchNorm of 5 tensors; no fc.
        Assert.Equal(22 * 6, keys.Count);
        Assert.Equal("conv1.weight", keys[0]);
        Assert.Equal(new long[] { 64, 3, 7, 7 }, _import.Weights["conv1.weight"].shape);
        Assert.Equal(new long[] { 128, 64, 3, 3 }, _import.Weights["layer2.0.conv1.weight"].shape);
        Assert.Equal(new long[] { 512, 256, 1, 1 }, _import.Weights["layer4.0.downsample.0.weight"].shape);
        Assert.Equal(new long[] { 512 }, _import.Weights["layer4.2.bn2.running_var"].shape);
        Assert.False(_import.Weights.Contains("layer1.0.downsample.0.weight"));
        Assert.False(_import.Weights.Contains("fc.weight"));
        var tracked = _import.Weights["layer3.1.bn1.num_batches_tracked"];
        Assert.Equal(ScalarType.Int64, tracked.dtype);
        Assert.Empty(tracked.shape);
        Assert.Equal(0L, tracked.item<long>());
        // Pretrained statistics, not an identity: the running variances are far from 1.
        Assert.True(_import.Weights["bn1.running_var"].max().item<float>() > 10f);
    }

    [Fact]
    public void RecordsCntkAsymmetricPadding()
    {
        var conv1 = Assert.Single(_import.Paddings, p => p.Layer == "conv1");
        Assert.Equal(new long[] { 3, 3, 2, 2 }, conv1.OnnxPads);
        Assert.Equal(new long[] { 3, 3, 3, 3 }, conv1.TimmPads);
        var pool = Assert.Single(_import.Paddings, p => p.Layer == "maxpool");
        Assert.Equal(new long[] { 1, 1, 0, 0 }, pool.OnnxPads);
        Assert.Equal(new[] { "conv1", "maxpool", "layer2.0.conv1", "layer3.0.conv1", "layer4.0.conv1" }, _import.Paddings.Select(p => p.Layer));
        Assert.True(_import.PaddingMatchesTimm(224, 224));
        Assert.True(_import.PaddingMatchesTimm(64, 32));
        Assert.False(_import.PaddingMatchesTimm(225, 225)); // odd: CNTK's stem gives 112 rows, timm's 113
        Assert.False(_import.PaddingMatchesTimm(240, 240)); // 240 → 120 → 60 → 30 → 15: odd at layer4
        Assert.Contains(_import.Notes, n => n.Contains("Asymmetric padding"));
    }

    [Fact]
    public void AsymmetricPaddingChangesOnlySizesNotMultipleOf32()
    {
        // Measured on the imported stem: symmetric padding (timm) equals explicit CNTK padding at 224 and differs at 225.
        var w = _import.Weights["conv1.weight"];
        foreach (var (size, same) in new[] { (224, true), (225, false) })
        {
            using var scope = NewDisposeScope();
            var x = randn(1, 3, size, size, generator: new Generator(1));
            var timm = nn.functional.conv2d(x, w, strides: new long[] { 2, 2 }, padding: new long[] { 3, 3 });
            var cntk = nn.functional.conv2d(nn.functional.pad(x, new long[] { 3, 2, 3, 2 }), w, strides: new long[] { 2, 2 });
            Assert.Equal(same, timm.shape.SequenceEqual(cntk.shape));
            if (same) Assert.Equal(0f, (timm - cntk).abs().max().item<float>());
            else Assert.Equal(new long[] { 1, 64, 113, 113 }, timm.shape);
        }
    }

    [Fact]
    public void InputConventionComesFromThePreprocessingModel()
    {
        var c = _import.Input;
        Assert.Equal(ChannelOrder.Bgr, c.Order);
        Assert.Equal(1f, c.Scale);
        Assert.Equal(new[] { 1f, 1f, 1f }, c.Std);
        Assert.EndsWith("ResNetPreprocess.onnx", _import.InputSource);

        // ONNX Runtime on the preprocessing model with a black image gives −MeanImage in B, G, R order; its plane means are the convention.
        var zeros = new float[3 * 224 * 224];
        var (output, _) = OnnxRuntimeRunner.Run(Resnet18Files.Preprocess, "OriginalInput", zeros, 1, 3, 224, 224).Single().Value;
        for (int c2 = 0; c2 < 3; c2++)
        {
            double planeMean = -output.Skip(c2 * 224 * 224).Take(224 * 224).Average(v => (double)v);
            Assert.Equal(planeMean, c.Mean[c2], 2);
            Assert.InRange(c.Mean[c2], 90f, 140f);
        }
    }

    [Fact]
    public void FeaturesEqualOnnxRuntime()
    {
        var random = new Random(7);
        var input = new float[3 * 224 * 224];
        for (int i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 255 - 114); // BGR pixels minus the mean image's level
        var (expected, shape) = OnnxRuntimeRunner.Run(Resnet18Files.Model, "Input247", input, 1, 3, 224, 224)["Pooling395_Output_0"];
        Assert.Equal(new[] { 1, 512, 1, 1 }, shape);

        // Our ResNet (symmetric padding, global mean pool) with the imported weights, without fc: see PaddingMatchesTimm(224, 224).
        using var model = (ResNet)_import.Spec.CreateModel();
        model.LoadStateDict(_import.Weights);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var features = model.ForwardPreLogits(tensor(input, new long[] { 1, 3, 224, 224 }));
        Assert.Equal(new long[] { 1, 512 }, features.shape);
        AssertClose(expected, features.data<float>().ToArray(), 1e-4);
    }

    internal static void AssertClose(float[] expected, float[] actual, double relative)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(v => Math.Abs((double)v));
        double worst = expected.Zip(actual, (e, a) => Math.Abs((double)e - a)).Max();
        Assert.True(worst <= relative * scale, $"max |difference| {worst:g4} exceeds {relative:g2} × max |expected| {scale:g4}");
    }
}

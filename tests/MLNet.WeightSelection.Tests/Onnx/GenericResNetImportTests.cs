using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Onnx;

/// <summary>The importer walks PyTorch-style graphs as well as CNTK's: roles come from structure, not names.</summary>
public sealed class GenericResNetImportTests
{
    static readonly ResNetSpec Basic = new()
    {
        Block = ResNetBlock.Basic, Layers = new[] { 2, 1, 1, 1 }, Channels = new[] { 8, 16, 16, 32 }, PlainStemWidth = 8, NumClasses = 5, ImageSize = 32,
    };

    static readonly ResNetSpec Bottleneck = new()
    {
        Block = ResNetBlock.Bottleneck, Layers = new[] { 2, 1, 1, 1 }, Channels = new[] { 4, 8, 8, 16 }, PlainStemWidth = 8, NumClasses = 6, ImageSize = 32,
    };

    [Fact]
    public void ReadableNamesImportBitExactWithClassifier()
    {
        var (model, sd) = HandBuiltResNetOnnx.RandomModel(Basic, seed: 3);
        using var _ = model;
        using var __ = sd;
        string path = Write(HandBuiltResNetOnnx.Build(sd, Basic, 32, foldBatchNorm: false));

        using var imported = OnnxResNetImporter.Import(path);
        // No preprocessing model next to it: timm's ImageNet convention is assumed and said so.
        Assert.Equal(InputConvention.ImageNet, imported.Input);
        Assert.Contains(imported.Notes, n => n.Contains("assumed"));
        Assert.Equal(Basic with { Input = InputConvention.ImageNet }, imported.Spec);
        Assert.True(imported.HasClassifier);
        Assert.Empty(imported.Paddings);
        Assert.Equal(sd.Keys.OrderBy(k => k), imported.Weights.Keys.OrderBy(k => k));
        foreach (var (key, expected) in sd)
        {
            Assert.Equal(expected.shape, imported.Weights[key].shape);
            Assert.True(expected.allclose(imported.Weights[key], rtol: 0, atol: 0), $"{key} differs after import");
        }
    }

    [Fact]
    public void FoldedBatchNormImportsToTheSameFunction()
    {
        var (model, sd) = HandBuiltResNetOnnx.RandomModel(Bottleneck, seed: 4);
        using var _ = model;
        using var __ = sd;
        var bytes = HandBuiltResNetOnnx.Build(sd, Bottleneck, 32, foldBatchNorm: true);
        string path = Write(bytes);

        using var imported = OnnxResNetImporter.Import(path, new OnnxImportOptions { Input = InputConvention.Inception });
        Assert.Equal(Bottleneck with { Input = InputConvention.Inception }, imported.Spec);
        Assert.Contains(imported.Notes, n => n.Contains("folded"));
        Assert.Contains("layer1.0.downsample.1.running_var", imported.Weights.Keys); // stem 8 → 16 channels needs a projection
        Assert.True(imported.Weights["layer2.0.bn2.weight"].eq(1f).all().item<bool>());

        var random = new Random(5);
        var input = Enumerable.Range(0, 2 * 3 * 32 * 32).Select(_ => (float)random.NextDouble() * 4 - 2).ToArray();
        var expected = OnnxRuntimeRunner.Run(bytes, "input", input, 2, 3, 32, 32)["logits"].Data;
        using var reloaded = imported.Spec.CreateModel();
        reloaded.LoadStateDict(imported.Weights);
        reloaded.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = tensor(input, new long[] { 2, 3, 32, 32 });
        CntkResNet18ImportTests.AssertClose(expected, reloaded.call(x).data<float>().ToArray(), 1e-4);
        // and the original, unfolded model computes the same function
        CntkResNet18ImportTests.AssertClose(expected, model.call(x).data<float>().ToArray(), 1e-4);
    }

    [Fact]
    public void OtherBatchNormEpsilonIsRejected()
    {
        var (model, sd) = HandBuiltResNetOnnx.RandomModel(Basic, seed: 3);
        using var _ = model;
        using var __ = sd;
        string path = Write(HandBuiltResNetOnnx.Build(sd, Basic, 32, foldBatchNorm: false, epsilon: 1e-3f));
        var e = Assert.Throws<InvalidDataException>(() => OnnxResNetImporter.Import(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("epsilon", e.Message);
    }

    internal static string Write(byte[] bytes, string name = "model.onnx")
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}

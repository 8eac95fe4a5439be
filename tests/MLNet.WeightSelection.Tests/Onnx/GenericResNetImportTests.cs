using MLNet.WeightSelection.Checkpoints.Onnx;
using MLNet.WeightSelection.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Onnx;

/// <summary>The importer walks PyTorch-style graphs as well as CNTK's: roles come from structure, not names.</summary>
public sealed class GenericResNetImportTests
{
    static readonly OnnxResNetArchitecture Basic = new("basic", new[] { 2, 1, 1, 1 }, new[] { 8, 16, 16, 32 }, 8, 64, 3, 5);
    static readonly OnnxResNetArchitecture Bottleneck = new("bottleneck", new[] { 2, 1, 1, 1 }, new[] { 4, 8, 8, 16 }, 8, 64, 3, 6);

    [Fact]
    public void ReadableNamesImportBitExactWithClassifier()
    {
        using var sd = HandBuiltResNetOnnx.RandomWeights(Basic, 5, seed: 3);
        string path = Write(HandBuiltResNetOnnx.Build(sd, Basic, 32, foldBatchNorm: false));

        using var imported = OnnxResNetImporter.Import(path);
        Assert.Equal(Basic, imported.Architecture with { Layers = Basic.Layers, Channels = Basic.Channels });
        Assert.Equal(Basic.Layers, imported.Architecture.Layers);
        Assert.Equal(Basic.Channels, imported.Architecture.Channels);
        Assert.True(imported.HasClassifier);
        Assert.Empty(imported.Paddings);
        Assert.Equal(sd.Keys.OrderBy(k => k), imported.Weights.Keys.OrderBy(k => k));
        foreach (var (key, expected) in sd)
        {
            Assert.Equal(expected.shape, imported.Weights[key].shape);
            Assert.True(expected.allclose(imported.Weights[key], rtol: 0, atol: 0), $"{key} differs after import");
        }
        // No preprocessing model next to it: timm's ImageNet convention is assumed and said so.
        Assert.Equal(InputConvention.ImageNet, imported.Input);
        Assert.Contains(imported.Notes, n => n.Contains("assumed"));
    }

    [Fact]
    public void FoldedBatchNormImportsToTheSameFunction()
    {
        using var sd = HandBuiltResNetOnnx.RandomWeights(Bottleneck, 6, seed: 4);
        var bytes = HandBuiltResNetOnnx.Build(sd, Bottleneck, 32, foldBatchNorm: true);
        string path = Write(bytes);

        using var imported = OnnxResNetImporter.Import(path, new OnnxImportOptions { Input = InputConvention.Inception });
        Assert.Equal("bottleneck", imported.Architecture.Block);
        Assert.Equal(Bottleneck.Layers, imported.Architecture.Layers);
        Assert.Equal(Bottleneck.Channels, imported.Architecture.Channels);
        Assert.Equal(6, imported.Architecture.NumClasses);
        Assert.Equal(InputConvention.Inception, imported.Input);
        Assert.Contains(imported.Notes, n => n.Contains("folded"));
        Assert.Contains("layer1.0.downsample.1.running_var", imported.Weights.Keys); // stem 8 → 16 channels needs a projection
        Assert.True(imported.Weights["layer2.0.bn2.weight"].eq(1f).all().item<bool>());

        var random = new Random(5);
        var input = Enumerable.Range(0, 2 * 3 * 32 * 32).Select(_ => (float)random.NextDouble() * 4 - 2).ToArray();
        var expected = OnnxRuntimeRunner.Run(bytes, "input", input, 2, 3, 32, 32)["logits"].Data;
        using var scope = NewDisposeScope();
        var logits = ReferenceResNet.Forward(imported.Weights, imported.Architecture, tensor(input, new long[] { 2, 3, 32, 32 }), logits: true);
        CntkResNet18ImportTests.AssertClose(expected, logits.data<float>().ToArray(), 1e-4);
        // and the original, unfolded weights give the same function
        var original = ReferenceResNet.Forward(sd, Bottleneck, tensor(input, new long[] { 2, 3, 32, 32 }), logits: true);
        CntkResNet18ImportTests.AssertClose(expected, original.data<float>().ToArray(), 1e-4);
    }

    [Fact]
    public void OtherBatchNormEpsilonIsRejected()
    {
        using var sd = HandBuiltResNetOnnx.RandomWeights(Basic, 5, seed: 3);
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

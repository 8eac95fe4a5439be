using MLNet.WeightSelection.Models.Onnx;
using MLNet.WeightSelection.Models.ResNet;
using Xunit;

namespace MLNet.WeightSelection.Tests.Onnx;

public sealed class BadOnnxInputTests
{
    [Fact]
    public void MissingFileIsFileNotFound()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "absent.onnx");
        var e = Assert.Throws<FileNotFoundException>(() => OnnxResNetImporter.Import(path));
        Assert.Contains(path, e.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x01 })]
    [InlineData(new byte[] { (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o', (byte)'\n' })]
    [InlineData(new byte[0])]
    public void CorruptFileNamesTheFile(byte[] content)
    {
        string path = GenericResNetImportTests.Write(content, "corrupt.onnx");
        var e = Assert.Throws<InvalidDataException>(() => OnnxResNetImporter.Import(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not an ONNX model", e.Message);
    }

    [Fact]
    public void TruncatedModelIsInvalidData()
    {
        var bytes = TinyResNet();
        string path = GenericResNetImportTests.Write(bytes[..(bytes.Length / 2)], "truncated.onnx");
        var e = Assert.Throws<InvalidDataException>(() => OnnxResNetImporter.Import(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void PreprocessingModelIsNotAResNet()
    {
        // A valid ONNX file of another kind: ML.NET's preprocessing graph (Split, Concat, Sub).
        var e = Assert.Throws<InvalidDataException>(() => OnnxResNetImporter.Import(Resnet18Files.Preprocess));
        Assert.Contains(Resnet18Files.Preprocess, e.Message);
        Assert.Contains("ResNet", e.Message);
        Assert.Contains("stem Conv", e.Message);
    }

    [Fact]
    public void ResNetIsNotAPreprocessingModel()
    {
        string path = GenericResNetImportTests.Write(TinyResNet());
        var e = Assert.Throws<InvalidDataException>(() => OnnxPreprocessing.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("Conv", e.Message);
    }

    static byte[] TinyResNet()
    {
        var spec = new ResNetSpec { Layers = new[] { 1, 1, 1, 1 }, Channels = new[] { 4, 4, 4, 4 }, PlainStemWidth = 4, NumClasses = 2 };
        var (model, sd) = HandBuiltResNetOnnx.RandomModel(spec, seed: 1);
        using var _ = model;
        using var __ = sd;
        return HandBuiltResNetOnnx.Build(sd, spec, 32, foldBatchNorm: false);
    }
}

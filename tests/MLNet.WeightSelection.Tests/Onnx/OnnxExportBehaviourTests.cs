using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models.Onnx;
using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Models;
using Onnx;
using Xunit;

namespace MLNet.WeightSelection.Tests.Onnx;

public sealed class OnnxExportBehaviourTests
{
    /// <summary>CNTK's convention, as imported from ML.NET's ResNet-18: BGR planes, 0–255, minus channel means.</summary>
    static readonly InputConvention Cntk = new(ChannelOrder.Bgr, 1f, new[] { 103.06f, 115.90f, 123.15f }, new[] { 1f, 1f, 1f });

    [Fact]
    public void ExportWritesTheFileAtomicallyAndOverwrites()
    {
        using var model = ExportCases.Model("resnet_basic");
        string folder = TestPaths.NewTempDirectory();
        string path = Path.Combine(folder, "student.onnx");
        File.WriteAllText(path, "an older file");

        OnnxExporter.Export(model, path);

        Assert.Equal(new[] { "student.onnx" }, Directory.GetFiles(folder).Select(Path.GetFileName));
        Assert.Equal(OnnxExporter.ExportToBytes(model), File.ReadAllBytes(path)); // deterministic, and the old content is gone
        var pixels = ExportCases.Pixels(1, 32, seed: 9);
        var fromFile = OnnxRuntimeRunner.Run(path, "input", pixels, 1, 3, 32, 32)["probabilities"].Data;
        Assert.Equal(ExportCases.Reference(model, pixels, 1, 32).Probabilities, fromFile, new ToleranceComparer(1e-4));
    }

    [Fact]
    public void BgrConventionIsAppliedForRgbAndBgrPixelPlanes()
    {
        using var model = ExportCases.Model("resnet_bottleneck");
        model.Input = Cntk;
        var rgb = ExportCases.Pixels(2, 32, seed: 4);
        var bgr = FlipChannels(rgb, 2, 32);
        var expected = ExportCases.Reference(model, rgb, 2, 32, ChannelOrder.Rgb).Probabilities;
        Assert.Equal(expected, ExportCases.Reference(model, bgr, 2, 32, ChannelOrder.Bgr).Probabilities, new ToleranceComparer(1e-6));

        var forRgb = OnnxExporter.ExportToBytes(model); // ExtractPixels' default planes: the graph swaps them to BGR
        Assert.Contains(ModelProto.Parser.ParseFrom(forRgb).Graph.Node, n => n.OpType == "Gather" && n.Name.StartsWith("reorder_channels"));
        var forBgr = OnnxExporter.ExportToBytes(model, new OnnxExportOptions { PixelOrder = ChannelOrder.Bgr });
        Assert.DoesNotContain(ModelProto.Parser.ParseFrom(forBgr).Graph.Node, n => n.OpType == "Gather");

        Assert.Equal(expected, OnnxRuntimeRunner.Run(forRgb, "input", rgb, 2, 3, 32, 32)["probabilities"].Data, new ToleranceComparer(1e-4));
        Assert.Equal(expected, OnnxRuntimeRunner.Run(forBgr, "input", bgr, 2, 3, 32, 32)["probabilities"].Data, new ToleranceComparer(1e-4));
    }

    [Fact]
    public void ExportedResNetImportsBackExactlyWithItsConvention()
    {
        using var model = (ResNet)ExportCases.Model("resnet_bottleneck");
        model.Input = Cntk;
        string path = GenericResNetImportTests.Write(OnnxExporter.ExportToBytes(model));

        using var imported = OnnxResNetImporter.Import(path);
        Assert.Equal(model.ResNetSpec with { Input = Cntk }, imported.Spec);
        Assert.Equal("the graph's own input normalization", imported.InputSource);
        using var original = StateDict.FromModule(model);
        Assert.Equal(original.Keys.OrderBy(k => k), imported.Weights.Keys.OrderBy(k => k));
        foreach (var (key, expected) in original)
            Assert.True(expected.allclose(imported.Weights[key], rtol: 0, atol: 0), $"{key} differs after export and import");
    }

    [Fact]
    public void ImageNetConventionReadsBackInTimmsForm()
    {
        using var model = (ResNet)ExportCases.Model("resnet_basic");
        string path = GenericResNetImportTests.Write(OnnxExporter.ExportToBytes(model));
        using var imported = OnnxResNetImporter.Import(path);
        var c = imported.Input;
        Assert.Equal(ChannelOrder.Rgb, c.Order);
        Assert.Equal(255f, c.Scale);
        Assert.Equal(InputConvention.ImageNet.Mean, c.Mean, new ToleranceComparer(1e-5));
        Assert.Equal(InputConvention.ImageNet.Std, c.Std, new ToleranceComparer(1e-5));
    }

    [Fact]
    public void ExportedViTIsNotAResNet()
    {
        using var model = ExportCases.Model("vit_token_layerscale");
        string path = GenericResNetImportTests.Write(OnnxExporter.ExportToBytes(model), "vit.onnx");
        var e = Assert.Throws<InvalidDataException>(() => OnnxResNetImporter.Import(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("ResNet", e.Message);
    }

    [Fact]
    public void ModelWithoutClassifierExportsFeaturesOnly()
    {
        using var model = ExportCases.Model("convnext_conv_mlp");
        model.ResetClassifier(0);
        var proto = ModelProto.Parser.ParseFrom(OnnxExporter.ExportToBytes(model));
        Assert.Equal(new[] { "features" }, proto.Graph.Output.Select(o => o.Name));
        Assert.Throws<ArgumentException>(() => OnnxExporter.ExportToBytes(model, new OnnxExportOptions { IncludeFeatures = false }));

        var pixels = ExportCases.Pixels(1, 32, seed: 2);
        var features = OnnxRuntimeRunner.Run(OnnxExporter.ExportToBytes(model), "input", pixels, 1, 3, 32, 32)["features"].Data;
        CntkResNet18ImportTests.AssertClose(ExportCases.Reference(model, pixels, 1, 32).Features, features, 1e-4);
    }

    [Fact]
    public void InvalidOptionsAreRejected()
    {
        using var vit = ExportCases.Model("vit_token_layerscale");
        Assert.Contains("opset", Assert.Throws<ArgumentException>(() => OnnxExporter.ExportToBytes(vit, new OnnxExportOptions { Opset = 16 })).Message);
        Assert.Contains("opset", Assert.Throws<ArgumentException>(() => OnnxExporter.ExportToBytes(vit, new OnnxExportOptions { Opset = 22 })).Message);
        Assert.Contains("own image size", Assert.Throws<ArgumentException>(() => OnnxExporter.ExportToBytes(vit, new OnnxExportOptions { ImageSize = 64 })).Message);
        Assert.Throws<ArgumentException>(() => OnnxExporter.ExportToBytes(vit, new OnnxExportOptions { FeaturesName = "input" }));
    }

    [Fact]
    public void ConvolutionalModelsCanTakeAnyImageSize()
    {
        using var model = ExportCases.Model("convnext_linear_mlp");
        var bytes = OnnxExporter.ExportToBytes(model, new OnnxExportOptions { DynamicImageSize = true });
        var dims = ModelProto.Parser.ParseFrom(bytes).Graph.Input[0].Type.TensorType.Shape.Dim;
        Assert.Equal(new[] { "batch", "", "height", "width" }, dims.Select(d => d.DimParam));
        var pixels = ExportCases.Pixels(1, 64, seed: 3);
        var probabilities = OnnxRuntimeRunner.Run(bytes, "input", pixels, 1, 3, 64, 64)["probabilities"].Data;
        Assert.Equal(ExportCases.Reference(model, pixels, 1, 64).Probabilities, probabilities, new ToleranceComparer(1e-4));
    }

    static float[] FlipChannels(float[] planes, int n, int size)
    {
        int plane = size * size;
        var result = new float[planes.Length];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < 3; c++)
                Array.Copy(planes, (i * 3 + c) * plane, result, (i * 3 + 2 - c) * plane, plane);
        return result;
    }

    sealed class ToleranceComparer(double tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(float obj) => 0;
    }
}

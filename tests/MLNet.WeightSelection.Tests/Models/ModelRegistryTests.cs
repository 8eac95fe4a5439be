using System.Text.Json;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.ConvNeXt;
using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Models.Vit;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Models;

public class ModelRegistryTests
{
    [Fact]
    public void RegistersTimmsPresetsAndTheProjectsStudents()
    {
        string[] expected =
        {
            "vit_tiny_patch16_224", "vit_small_patch16_224", "vit_base_patch16_224", "vit_large_patch16_224",
            "vit_small_patch8_224", "vit_base_patch8_224", "vit_small_patch32_224", "vit_base_patch32_224", "vit_large_patch32_224",
            "convnext_atto", "convnext_femto", "convnext_pico", "convnext_nano", "convnext_tiny", "convnext_small", "convnext_base",
            "resnet10", "resnet10t", "resnet14t", "resnet18", "resnet26", "resnet34", "resnet50", "resnet18_half",
            "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "efficientnet_mini",
            "swin_tiny_patch4_window7_224", "swin_small_patch4_window7_224", "swin_base_patch4_window7_224", "swin_mini",
        };
        Assert.Equal(expected.OrderBy(n => n, StringComparer.Ordinal), ModelRegistry.Names.Where(expected.Contains));
        Assert.DoesNotContain("vit_tiny_patch8_224", ModelRegistry.Names); // timm has no such model
    }

    [Theory]
    [InlineData("vit_large_patch16_224", 16, 1024, 24, 16)]
    [InlineData("vit_small_patch8_224", 8, 384, 12, 6)]
    [InlineData("vit_base_patch32_224", 32, 768, 12, 12)]
    public void VitPresetsHaveTimmsConfigs(string name, int patch, int dim, int depth, int heads)
    {
        var spec = (VisionTransformerSpec)ModelRegistry.GetSpec(name);
        Assert.Equal((224, patch, dim, depth, heads), (spec.ImageSize, spec.PatchSize, spec.EmbedDim, spec.Depth, spec.NumHeads));
        Assert.Equal(InputConvention.Inception, spec.Input);
    }

    [Theory]
    [InlineData("convnext_atto", new[] { 2, 2, 6, 2 }, new[] { 40, 80, 160, 320 }, true)]
    [InlineData("convnext_femto", new[] { 2, 2, 6, 2 }, new[] { 48, 96, 192, 384 }, true)]
    [InlineData("convnext_pico", new[] { 2, 2, 6, 2 }, new[] { 64, 128, 256, 512 }, true)]
    [InlineData("convnext_nano", new[] { 2, 2, 8, 2 }, new[] { 80, 160, 320, 640 }, true)]
    [InlineData("convnext_tiny", new[] { 3, 3, 9, 3 }, new[] { 96, 192, 384, 768 }, false)]
    [InlineData("convnext_small", new[] { 3, 3, 27, 3 }, new[] { 96, 192, 384, 768 }, false)]
    [InlineData("convnext_base", new[] { 3, 3, 27, 3 }, new[] { 128, 256, 512, 1024 }, false)]
    public void ConvNeXtPresetsHaveTimmsConfigs(string name, int[] depths, int[] dims, bool convMlp)
    {
        var spec = (ConvNeXtSpec)ModelRegistry.GetSpec(name);
        Assert.Equal(depths, spec.Depths);
        Assert.Equal(dims, spec.Dims);
        Assert.Equal(convMlp, spec.ConvMlp);
        Assert.Equal(InputConvention.ImageNet, spec.Input);
    }

    [Fact]
    public void CreateAppliesClassAndImageSizeOverrides()
    {
        using var vit = ModelRegistry.Create("vit_tiny_patch16_224", numClasses: 10, imgSize: 32);
        PresetArchitectureTests.AssertShape(vit.state_dict(), "pos_embed", 1, 5, 192);
        PresetArchitectureTests.AssertShape(vit.state_dict(), "head.weight", 10, 192);
        Assert.Equal(32, vit.Spec.ImageSize);
        Assert.Equal(InputConvention.Inception, vit.Input);

        using var resnet = ModelRegistry.Create("resnet18.a1_in1k", numClasses: 0);
        Assert.Empty(resnet.ClassifierKeys);
        Assert.Equal(0, resnet.NumClasses);
        using var x = randn(1, 3, 32, 32);
        resnet.eval();
        using var features = resnet.call(x);
        Assert.Equal(new long[] { 1, 512 }, features.shape);
    }

    [Fact]
    public void UnknownNamesListCloseNames()
    {
        var e = Assert.Throws<KeyNotFoundException>(() => ModelRegistry.GetSpec("resnet19"));
        Assert.Contains("resnet18", e.Message);
        var e2 = Assert.Throws<KeyNotFoundException>(() => ModelRegistry.Create("convnext_fempto"));
        Assert.Contains("convnext_femto", e2.Message);
        Assert.DoesNotContain("vit_", e2.Message);
    }

    [Fact]
    public void ResolvesInlineJsonFilesAndNames()
    {
        var inline = ModelRegistry.ResolveSpec("""{"family": "resnet", "block": "basic", "layers": [1, 1], "channels": [4, 8], "num_classes": 3}""");
        Assert.Equal(new[] { 4, 8 }, ((ResNetSpec)inline).Channels);

        string dir = TestPaths.NewTempDirectory();
        string path = Path.Combine(dir, "student.json");
        File.WriteAllText(path, ModelRegistry.GetSpec("convnext_atto").ToJson());
        Assert.Equal(ModelRegistry.GetSpec("convnext_atto"), ModelRegistry.ResolveSpec(path));

        string bad = Path.Combine(dir, "bad.json");
        File.WriteAllText(bad, """{"family": "convnext", "dimz": [1, 2, 3, 4]}""");
        var e = Assert.Throws<JsonException>(() => ModelRegistry.ResolveSpec(bad));
        Assert.Contains(bad, e.Message);
        Assert.Contains("dimz", e.Message);

        Assert.Throws<FileNotFoundException>(() => ModelRegistry.ResolveSpec(Path.Combine(dir, "absent.json")));
        Assert.IsType<VisionTransformerSpec>(ModelRegistry.ResolveSpec(" vit_small_patch16_224 "));
    }

    [Fact]
    public void RegisteredPresetsResolveByName()
    {
        var spec = new ResNetSpec { Layers = new[] { 1 }, Channels = new[] { 8 }, NumClasses = 2 };
        ModelRegistry.Register("test_resnet_one_stage", spec);
        Assert.Equal(spec, ModelRegistry.GetSpec("test_resnet_one_stage"));
        Assert.Throws<ArgumentException>(() => ModelRegistry.Register("bad.name", spec));
        Assert.Throws<ArgumentException>(() => ModelRegistry.Register("bad_spec", spec with { Channels = new[] { 8, 16 } }));
    }
}

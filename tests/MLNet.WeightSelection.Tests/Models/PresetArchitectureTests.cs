using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.ConvNeXt;
using MLNet.WeightSelection.Models.Layers;
using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Models.Vit;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Models;

/// <summary>
/// Presets against timm facts. Parameter counts are derived from timm's layer formulas (1000 classes):
/// ViT: patch conv 3·D·p² + D, cls D, pos (g²+1)·D, per block 2D + (3D² + 3D) + (D² + D) + 2D + (4D² + 4D) + (4D² + D),
/// final norm 2D, head 1000·D + 1000. ResNet: convs without bias, BN weight + bias per channel, fc 1000·C + 1000.
/// ConvNeXt: stem 48·d0 + d0 + 2·d0, downsample 2·c_in + 4·c_in·c + c, per block 49c + c + 2c + (4c² + 4c) + (4c² + c) + c,
/// head 2·C + 1000·C + 1000. The formula reproduces the widely published counts of vit_tiny (5,717,416),
/// resnet18 (11,689,512), resnet50 (25,557,032) and convnext_tiny (28,589,128); convnext_atto comes to 3,695,520.
/// </summary>
public class PresetArchitectureTests
{
    [Theory]
    [InlineData("vit_tiny_patch16_224", 5_717_416L)]
    [InlineData("resnet18", 11_689_512L)]
    [InlineData("resnet10t", 5_435_488L)]
    [InlineData("resnet10", 5_418_792L)]
    [InlineData("resnet18_half", 3_055_880L)]
    [InlineData("convnext_atto", 3_695_520L)]
    [InlineData("convnext_femto", 5_217_784L)]
    public void ParameterCountMatchesTimmFormula(string preset, long expected)
    {
        using var model = ModelRegistry.Create(preset);
        Assert.Equal(expected, model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void ResNet18BuffersAreRunningStatsAndInt64BatchCounters()
    {
        using var model = ModelRegistry.Create("resnet18");
        var buffers = model.named_buffers().ToList();
        // 20 BatchNorms: running_mean + running_var per channel (4,800 channels) and one counter each.
        Assert.Equal(9_620L, buffers.Sum(b => b.buffer.numel()));
        var counter = buffers.Single(b => b.name == "layer1.0.bn1.num_batches_tracked").buffer;
        Assert.Equal(ScalarType.Int64, counter.dtype);
        Assert.Empty(counter.shape);
    }

    [Fact]
    public void VitTinyHasTimmKeysAndShapes()
    {
        using var model = ModelRegistry.Create("vit_tiny_patch16_224");
        var sd = model.state_dict();
        AssertShape(sd, "cls_token", 1, 1, 192);
        AssertShape(sd, "pos_embed", 1, 197, 192);
        AssertShape(sd, "patch_embed.proj.weight", 192, 3, 16, 16);
        AssertShape(sd, "patch_embed.proj.bias", 192);
        AssertShape(sd, "blocks.11.norm1.weight", 192);
        AssertShape(sd, "blocks.11.attn.qkv.weight", 576, 192);
        AssertShape(sd, "blocks.11.attn.qkv.bias", 576);
        AssertShape(sd, "blocks.11.attn.proj.weight", 192, 192);
        AssertShape(sd, "blocks.0.mlp.fc1.weight", 768, 192);
        AssertShape(sd, "blocks.0.mlp.fc2.weight", 192, 768);
        AssertShape(sd, "norm.weight", 192);
        AssertShape(sd, "head.weight", 1000, 192);
        Assert.DoesNotContain("fc_norm.weight", sd.Keys);
        Assert.DoesNotContain("blocks.0.ls1.gamma", sd.Keys);
        Assert.DoesNotContain("blocks.12.norm1.weight", sd.Keys);
        Assert.Equal(new[] { "head.weight", "head.bias" }, model.ClassifierKeys);
        Assert.Equal(192, model.NumFeatures);
    }

    [Fact]
    public void VitAveragePoolingUsesFcNormAndLayerScaleAddsGammas()
    {
        var spec = new VisionTransformerSpec
        {
            ImageSize = 32, PatchSize = 8, EmbedDim = 16, Depth = 2, NumHeads = 2, NumClasses = 3,
            GlobalPool = "avg", ClassToken = false, InitValues = 1e-5,
        };
        using var model = spec.CreateModel();
        var sd = model.state_dict();
        Assert.Contains("fc_norm.weight", sd.Keys);
        Assert.DoesNotContain("norm.weight", sd.Keys);
        Assert.DoesNotContain("cls_token", sd.Keys);
        AssertShape(sd, "pos_embed", 1, 16, 16);
        AssertShape(sd, "blocks.1.ls1.gamma", 16);
        AssertShape(sd, "blocks.1.ls2.gamma", 16);
        Assert.True(sd["blocks.0.ls2.gamma"].allclose(full(16, 1e-5)));
    }

    [Fact]
    public void ConvNeXtAttoHasTimmKeysWithConvMlp()
    {
        using var model = ModelRegistry.Create("convnext_atto");
        var sd = model.state_dict();
        AssertShape(sd, "stem.0.weight", 40, 3, 4, 4);
        AssertShape(sd, "stem.1.weight", 40);
        AssertShape(sd, "stages.0.blocks.0.conv_dw.weight", 40, 1, 7, 7);
        AssertShape(sd, "stages.0.blocks.0.norm.weight", 40);
        AssertShape(sd, "stages.0.blocks.0.mlp.fc1.weight", 160, 40, 1, 1);
        AssertShape(sd, "stages.0.blocks.0.mlp.fc2.weight", 40, 160, 1, 1);
        AssertShape(sd, "stages.0.blocks.0.gamma", 40);
        AssertShape(sd, "stages.1.downsample.0.weight", 40);
        AssertShape(sd, "stages.1.downsample.1.weight", 80, 40, 2, 2);
        AssertShape(sd, "stages.2.blocks.5.conv_dw.weight", 160, 1, 7, 7);
        AssertShape(sd, "head.norm.weight", 320);
        AssertShape(sd, "head.fc.weight", 1000, 320);
        Assert.DoesNotContain(sd.Keys, k => k.StartsWith("stages.0.downsample", StringComparison.Ordinal));
        Assert.DoesNotContain("stages.2.blocks.6.conv_dw.weight", sd.Keys);
        Assert.True(sd["stages.3.blocks.1.gamma"].allclose(full(320, 1e-6)));
        Assert.Equal(new[] { "head.fc.weight", "head.fc.bias" }, model.ClassifierKeys);
    }

    [Fact]
    public void ConvNeXtWithoutConvMlpHasLinearMlpWeights()
    {
        var spec = (ConvNeXtSpec)ModelRegistry.GetSpec("convnext_tiny") with { Dims = new[] { 8, 16, 24, 32 }, Depths = new[] { 1, 1, 1, 1 } };
        using var model = spec.CreateModel();
        var sd = model.state_dict();
        AssertShape(sd, "stages.2.blocks.0.mlp.fc1.weight", 96, 24);
        AssertShape(sd, "stages.2.blocks.0.mlp.fc2.weight", 24, 96);
        Assert.False(((ConvNeXtSpec)ModelRegistry.GetSpec("convnext_tiny")).ConvMlp);
        Assert.True(((ConvNeXtSpec)ModelRegistry.GetSpec("convnext_nano")).ConvMlp);
    }

    [Fact]
    public void ResNet18HasTimmKeysAndShapes()
    {
        using var model = ModelRegistry.Create("resnet18");
        var sd = model.state_dict();
        AssertShape(sd, "conv1.weight", 64, 3, 7, 7);
        AssertShape(sd, "bn1.running_mean", 64);
        AssertShape(sd, "layer1.0.conv1.weight", 64, 64, 3, 3);
        AssertShape(sd, "layer1.1.bn2.running_var", 64);
        AssertShape(sd, "layer2.0.conv1.weight", 128, 64, 3, 3);
        AssertShape(sd, "layer2.0.downsample.0.weight", 128, 64, 1, 1);
        AssertShape(sd, "layer2.0.downsample.1.running_mean", 128);
        AssertShape(sd, "layer4.1.bn2.weight", 512);
        AssertShape(sd, "fc.weight", 1000, 512);
        Assert.DoesNotContain(sd.Keys, k => k.StartsWith("layer1.0.downsample", StringComparison.Ordinal));
        Assert.DoesNotContain("layer1.0.conv3.weight", sd.Keys);
        Assert.Equal(new[] { "fc.weight", "fc.bias" }, model.ClassifierKeys);
        Assert.Equal(512, model.NumFeatures);
    }

    [Fact]
    public void ResNet50HasBottlenecksAndAStage1Projection()
    {
        using var model = ModelRegistry.Create("resnet50");
        Assert.Equal(25_557_032L, model.parameters().Sum(p => p.numel()));
        var sd = model.state_dict();
        AssertShape(sd, "layer1.0.conv1.weight", 64, 64, 1, 1);
        AssertShape(sd, "layer1.0.conv3.weight", 256, 64, 1, 1);
        AssertShape(sd, "layer1.0.downsample.0.weight", 256, 64, 1, 1);
        AssertShape(sd, "layer3.5.bn3.weight", 1024);
        AssertShape(sd, "fc.weight", 1000, 2048);
        Assert.Equal(2048, model.NumFeatures);
    }

    [Fact]
    public void ResNet10tHasTimmsDeepTieredStemAndAveragePoolShortcuts()
    {
        using var model = ModelRegistry.Create("resnet10t");
        var sd = model.state_dict();
        AssertShape(sd, "conv1.0.weight", 24, 3, 3, 3);
        AssertShape(sd, "conv1.1.running_mean", 24);
        AssertShape(sd, "conv1.3.weight", 32, 24, 3, 3);
        AssertShape(sd, "conv1.4.weight", 32);
        AssertShape(sd, "conv1.6.weight", 64, 32, 3, 3);
        AssertShape(sd, "bn1.weight", 64);
        AssertShape(sd, "layer2.0.downsample.1.weight", 128, 64, 1, 1);
        AssertShape(sd, "layer2.0.downsample.2.running_var", 128);
        Assert.DoesNotContain("layer2.0.downsample.0.weight", sd.Keys);
        Assert.Equal(176, model.Spec.ImageSize);
    }

    [Fact]
    public void PlainStemIgnoresStemWidthLikeTimmUnlessPlainStemWidthIsSet()
    {
        var timmLike = new ResNetSpec { Layers = new[] { 1, 1, 1, 1 }, Channels = new[] { 32, 64, 128, 256 }, StemWidth = 32 };
        using (var model = timmLike.CreateModel())
        {
            AssertShape(model.state_dict(), "conv1.weight", 64, 3, 7, 7);
            AssertShape(model.state_dict(), "layer1.0.conv1.weight", 32, 64, 3, 3);
            AssertShape(model.state_dict(), "layer1.0.downsample.0.weight", 32, 64, 1, 1);
        }
        using (var half = ModelRegistry.Create("resnet18_half"))
        {
            var sd = half.state_dict();
            AssertShape(sd, "conv1.weight", 32, 3, 7, 7);
            AssertShape(sd, "bn1.weight", 32);
            AssertShape(sd, "layer1.0.conv1.weight", 32, 32, 3, 3);
            Assert.DoesNotContain(sd.Keys, k => k.StartsWith("layer1.0.downsample", StringComparison.Ordinal));
            AssertShape(sd, "fc.weight", 1000, 256);
        }
    }

    [Fact]
    public void TruncatedNormalFollowsPyTorchsDistribution()
    {
        torch.manual_seed(3);
        using var unit = Init.TruncNormal(empty(200_000));
        Assert.InRange(unit.min().item<float>(), -2f, -1.99f);
        Assert.InRange(unit.max().item<float>(), 1.99f, 2f);
        Assert.InRange(unit.mean().item<float>(), -0.01f, 0.01f);
        Assert.InRange(unit.std().item<float>(), 0.875f, 0.885f); // std of N(0, 1) truncated to ±2: 0.8796
        using var narrow = Init.TruncNormal(empty(200_000), std: 0.02);
        Assert.InRange(narrow.std().item<float>(), 0.0198f, 0.0202f);
        torch.manual_seed(4);
        using var other = Init.TruncNormal(empty(200_000));
        Assert.False(unit.allclose(other));
    }

    internal static void AssertShape(IDictionary<string, Tensor> sd, string key, params long[] shape)
    {
        Assert.True(sd.ContainsKey(key), $"missing key {key}");
        Assert.True(sd[key].shape.SequenceEqual(shape), $"{key}: [{string.Join(", ", sd[key].shape)}], expected [{string.Join(", ", shape)}]");
    }
}

using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Models.Vit;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Models;

/// <summary>Runs alone: torch's global generator is shared by every thread, so parallel tests would draw from it between seed and init.</summary>
[CollectionDefinition(nameof(GlobalGeneratorCollection), DisableParallelization = true)]
public sealed class GlobalGeneratorCollection;

/// <summary>timm's initialization schemes, drawn from torch's global generator.</summary>
[Collection(nameof(GlobalGeneratorCollection))]
public class SeededInitializationTests
{
    [Fact]
    public void InitializationIsTimmsAndDeterministicUnderManualSeed()
    {
        var spec = new VisionTransformerSpec { ImageSize = 32, PatchSize = 8, EmbedDim = 64, Depth = 2, NumHeads = 4, NumClasses = 50 };
        torch.manual_seed(7);
        using var a = spec.CreateModel();
        torch.manual_seed(7);
        using var b = spec.CreateModel();
        torch.manual_seed(8);
        using var c = spec.CreateModel();
        var sa = a.state_dict();
        foreach (var (key, value) in b.state_dict()) TensorAssert.Equal(sa[key], value, key);
        Assert.False(sa["blocks.0.attn.qkv.weight"].allclose(c.state_dict()["blocks.0.attn.qkv.weight"]));

        // trunc_normal(std 0.02) on Linear weights, zero biases, cls token ~ N(0, 1e-6).
        var qkv = sa["blocks.0.attn.qkv.weight"];
        Assert.InRange(qkv.std().item<float>(), 0.017f, 0.023f);
        Assert.Equal(0f, sa["blocks.0.attn.qkv.bias"].abs().max().item<float>());
        Assert.True(sa["cls_token"].abs().max().item<float>() < 1e-4f);

        Assert.False(sa["pos_embed"].allclose(c.state_dict()["pos_embed"]));
        Assert.False(sa["cls_token"].allclose(c.state_dict()["cls_token"], 0, 0));

        // ResNet: kaiming_normal(fan_out, relu) convs; zero_init_last zeroes each branch's last BN weight.
        var resnetSpec = new ResNetSpec { Layers = new[] { 1, 1, 1, 1 }, Channels = new[] { 16, 16, 16, 16 } };
        torch.manual_seed(7);
        using var resnet = resnetSpec.CreateModel();
        torch.manual_seed(8);
        using var resnet8 = resnetSpec.CreateModel();
        var rs = resnet.state_dict();
        Assert.False(rs["conv1.weight"].allclose(resnet8.state_dict()["conv1.weight"]));
        Assert.False(rs["fc.weight"].allclose(resnet8.state_dict()["fc.weight"]));
        double fanOutStd = Math.Sqrt(2.0 / (16 * 9));
        Assert.InRange(rs["layer3.0.conv2.weight"].std().item<float>(), 0.85 * fanOutStd, 1.15 * fanOutStd);
        Assert.Equal(0f, rs["layer2.0.bn2.weight"].abs().max().item<float>());
        Assert.Equal(1f, rs["layer2.0.bn1.weight"].min().item<float>());
    }
}

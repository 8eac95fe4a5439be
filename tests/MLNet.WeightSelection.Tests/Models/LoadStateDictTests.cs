using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.ConvNeXt;
using MLNet.WeightSelection.Models.Vit;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Models;

public class LoadStateDictTests
{
    static VisionTransformerSpec TinyVit(int imageSize) => new()
    {
        ImageSize = imageSize, PatchSize = 8, EmbedDim = 32, Depth = 1, NumHeads = 2, NumClasses = 5,
    };

    [Fact]
    public void VitAt32PixelsLoadsA64PixelCheckpointByResamplingPositionEmbeddings()
    {
        torch.manual_seed(1);
        using var teacher = TinyVit(64).CreateModel();
        using var checkpoint = StateDict.FromModule(teacher, "vit at 64 px");
        Assert.Equal(new long[] { 1, 65, 32 }, checkpoint["pos_embed"].shape);

        using var student = TinyVit(32).CreateModel();
        var result = student.LoadStateDict(checkpoint);
        Assert.Empty(result.MissingKeys);

        using var expected = PositionEmbeddings.Resample(checkpoint["pos_embed"], (4, 4), numPrefixTokens: 1);
        var loaded = student.state_dict();
        TensorAssert.Equal(expected, loaded["pos_embed"], "pos_embed");
        TensorAssert.Equal(checkpoint["blocks.0.attn.qkv.weight"], loaded["blocks.0.attn.qkv.weight"], "qkv");
        // The class token's embedding is kept as is; only the grid is interpolated.
        TensorAssert.Equal(checkpoint["pos_embed"].narrow(1, 0, 1), loaded["pos_embed"].narrow(1, 0, 1), "class position");

        student.eval();
        using var _ = no_grad();
        using var x = randn(2, 3, 32, 32);
        using var logits = student.call(x);
        Assert.Equal(new long[] { 2, 5 }, logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
    }

    [Fact]
    public void A224PixelCheckpointInitializesA32PixelStudent()
    {
        var spec = TinyVit(224) with { PatchSize = 16 };
        using var teacher = spec.CreateModel();
        using var checkpoint = StateDict.FromModule(teacher);
        using var student = (spec with { ImageSize = 32 }).CreateModel();
        student.LoadStateDict(checkpoint);
        PresetArchitectureTests.AssertShape(student.state_dict(), "pos_embed", 1, 5, 32);
    }

    [Fact]
    public void StrictLoadListsEveryProblemAtOnceAndCopiesNothing()
    {
        using var model = TinyVit(32).CreateModel();
        using var checkpoint = StateDict.FromModule(model);
        checkpoint.Remove("head.bias");
        checkpoint.Remove("blocks.0.norm2.weight");
        checkpoint.Add("decoder.weight", zeros(3));
        checkpoint["blocks.0.norm1.weight"] = ones(31);
        checkpoint["patch_embed.proj.bias"] = full(32, 5f);

        var before = model.state_dict()["patch_embed.proj.bias"].clone();
        var e = Assert.Throws<StateDictLoadException>(() => model.LoadStateDict(checkpoint));
        Assert.Equal(new[] { "blocks.0.norm2.weight", "head.bias" }, e.MissingKeys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal(new[] { "decoder.weight" }, e.UnexpectedKeys);
        Assert.Single(e.ShapeMismatches);
        Assert.Contains("blocks.0.norm1.weight", e.ShapeMismatches[0]);
        foreach (var text in new[] { "head.bias", "blocks.0.norm2.weight", "decoder.weight", "[31] vs model [32]", checkpoint.Origin })
            Assert.Contains(text, e.Message);
        TensorAssert.Equal(before, model.state_dict()["patch_embed.proj.bias"], "untouched on failure");
    }

    [Fact]
    public void NonStrictLoadReportsWhatItSkipped()
    {
        using var model = TinyVit(32).CreateModel();
        using var checkpoint = StateDict.FromModule(model);
        checkpoint.Remove("head.weight");
        checkpoint.Add("extra", zeros(1));
        checkpoint["norm.bias"] = full(32, 3f);
        var result = model.LoadStateDict(checkpoint, strict: false);
        Assert.Equal(new[] { "head.weight" }, result.MissingKeys);
        Assert.Equal(new[] { "extra" }, result.UnexpectedKeys);
        Assert.Equal(3f, model.state_dict()["norm.bias"].mean().item<float>());

        checkpoint["norm.bias"] = zeros(7);
        Assert.Throws<StateDictLoadException>(() => model.LoadStateDict(checkpoint, strict: false));
    }

    [Fact]
    public void DataParallelPrefixAndTimmsVitRenamesAreFiltered()
    {
        var spec = TinyVit(32) with { InitValues = 0.5 };
        using var source = spec.CreateModel();
        using var renamed = new StateDict("ddp checkpoint");
        foreach (var (key, value) in StateDict.FromModule(source))
            renamed.Add("module." + CheckpointLayouts.Deit3Key(key), value);
        renamed.Add("module.pre_logits.fc.weight", zeros(2, 2));
        using var target = spec.CreateModel();
        target.LoadStateDict(renamed);
        TensorAssert.Equal(source.state_dict()["blocks.0.ls1.gamma"], target.state_dict()["blocks.0.ls1.gamma"], "ls1.gamma");
    }

    [Fact]
    public void ConvNeXtLinearAndConvMlpCheckpointsLoadIntoEachOtherWithTheSameOutputs()
    {
        var linear = new ConvNeXtSpec { Depths = new[] { 1, 1, 1, 1 }, Dims = new[] { 8, 16, 24, 32 }, NumClasses = 4, LsInitValue = 0.5 };
        var conv = linear with { ConvMlp = true };
        torch.manual_seed(3);
        using var a = linear.CreateModel();
        using var b = conv.CreateModel();
        using (var checkpoint = StateDict.FromModule(a)) b.LoadStateDict(checkpoint);
        PresetArchitectureTests.AssertShape(b.state_dict(), "stages.1.blocks.0.mlp.fc1.weight", 64, 16, 1, 1);

        a.eval(); b.eval();
        using var _ = no_grad();
        using var x = randn(2, 3, 64, 64);
        using var ya = a.call(x);
        using var yb = b.call(x);
        TensorAssert.Close(ya, yb, 1e-4, 1e-5, "conv_mlp vs linear");

        using var c = linear.CreateModel();
        using (var back = StateDict.FromModule(b)) c.LoadStateDict(back);
        using var yc = c.call(x);
        TensorAssert.Close(ya, yc, 1e-4, 1e-5, "linear again");
    }

    [Fact]
    public void ConvNeXtLoadsTheOriginalFacebookKeyLayout()
    {
        var spec = new ConvNeXtSpec { Depths = new[] { 1, 1, 2, 1 }, Dims = new[] { 8, 16, 24, 32 }, NumClasses = 3 };
        using var model = spec.CreateModel();
        using var facebook = new StateDict("facebook convnext");
        foreach (var (key, value) in StateDict.FromModule(model)) facebook.Add(CheckpointLayouts.MetaConvNeXtKey(key), value.clone());
        Assert.Contains("downsample_layers.2.1.weight", facebook.Keys);
        Assert.Contains("stages.2.1.pwconv2.weight", facebook.Keys);

        using var loaded = spec.CreateModel();
        loaded.LoadStateDict(facebook);
        var expected = model.state_dict();
        foreach (var (key, value) in loaded.state_dict()) TensorAssert.Equal(expected[key], value, key);
    }
}

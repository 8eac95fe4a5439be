using System.Text.Json;
using System.Text.Json.Nodes;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.ConvNeXt;
using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Models.Vit;
using Xunit;

namespace MLNet.WeightSelection.Tests.Models;

public class SpecJsonTests
{
    public static IEnumerable<object[]> PresetNames => ModelRegistry.Names.Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(PresetNames))]
    public void EveryPresetRoundTripsThroughJson(string name)
    {
        var spec = ModelRegistry.GetSpec(name);
        string json = spec.ToJson();
        var back = ModelSpec.FromJson(json);
        Assert.Equal(spec, back);
        Assert.Equal(json, back.ToJson());
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(spec.Family, doc.RootElement.GetProperty("family").GetString());
    }

    [Fact]
    public void RoundTripKeepsEveryNonDefaultValue()
    {
        var vit = new VisionTransformerSpec
        {
            ImageSize = 48, PatchSize = 6, EmbedDim = 40, Depth = 3, NumHeads = 5, MlpRatio = 2.5, QkvBias = false,
            ClassToken = false, GlobalPool = "avg", FcNorm = true, InitValues = 0.1, DropRate = 0.2, DropPathRate = 0.3,
            NumClasses = 7, InChans = 1, Input = InputConvention.Identity,
        };
        Assert.Equal(vit, ModelSpec.FromJson(vit.ToJson(indented: false)));
        var convnext = new ConvNeXtSpec { Depths = new[] { 1, 2, 3, 4 }, Dims = new[] { 5, 6, 7, 8 }, LsInitValue = null, ConvMlp = true, DropPathRate = 0.1, ImageSize = 96 };
        Assert.Equal(convnext, ModelSpec.FromJson(convnext.ToJson()));
        var resnet = new ResNetSpec
        {
            Block = ResNetBlock.Bottleneck, Layers = new[] { 1, 2 }, Channels = new[] { 8, 16 }, StemWidth = 16, StemType = "deep",
            AvgDown = true, ZeroInitLast = false, DropRate = 0.5,
            Input = new InputConvention(ChannelOrder.Bgr, 1f, new[] { 114f, 114f, 114f }, new[] { 1f, 1f, 1f }),
        };
        var back = (ResNetSpec)ModelSpec.FromJson(resnet.ToJson());
        Assert.Equal(resnet, back);
        Assert.Equal(ChannelOrder.Bgr, back.Input.Order);
        Assert.NotEqual(resnet, back with { Layers = new[] { 1, 3 } });
    }

    [Theory]
    [MemberData(nameof(GoldenManifest.CaseNames), MemberType = typeof(GoldenManifest))]
    public void ManifestEntriesParseWithAFamilyField(string caseName)
    {
        var c = GoldenManifest.Case(caseName);
        foreach (var entry in new[] { c.TeacherJson, c.StudentJson })
        {
            var node = JsonNode.Parse(entry)!.AsObject();
            node["family"] = c.Family;
            var spec = ModelSpec.FromJson(node.ToJsonString());
            Assert.Equal(c.Family, spec.Family);
            Assert.Equal(10, spec.NumClasses);
            Assert.Equal(spec, ModelSpec.FromJson(entry, c.Family));
        }
    }

    [Fact]
    public void ManifestValuesLandInTheRightProperties()
    {
        var vit = (VisionTransformerSpec)ModelSpec.FromJson(GoldenManifest.Case("vit_s_to_t_mini").TeacherJson, "vit");
        Assert.Equal((32, 4, 64, 4, 4), (vit.ImageSize, vit.PatchSize, vit.EmbedDim, vit.Depth, vit.NumHeads));
        Assert.Equal(InputConvention.Inception, vit.Input);
        var convnext = (ConvNeXtSpec)ModelSpec.FromJson(GoldenManifest.Case("convnext_t_to_f_mini").StudentJson, "convnext");
        Assert.Equal(new[] { 1, 1, 2, 1 }, convnext.Depths);
        Assert.Equal(new[] { 8, 16, 32, 64 }, convnext.Dims);
        Assert.False(convnext.ConvMlp);
        var resnet = (ResNetSpec)ModelSpec.FromJson(GoldenManifest.Case("resnet_basic_mini").TeacherJson, "resnet");
        Assert.Equal(ResNetBlock.Basic, resnet.Block);
        Assert.Equal(new[] { 16, 32, 64, 128 }, resnet.Channels);
        Assert.Equal(64, resnet.StemChannels);
    }

    [Theory]
    [InlineData("""{"family": "vit", "embed_dimm": 64}""", "embed_dimm", "unknown")]
    [InlineData("""{"family": "vit", "depth": "4"}""", "depth", "integer")]
    [InlineData("""{"family": "vit", "depth": 4.5}""", "depth", "integer")]
    [InlineData("""{"family": "vit", "qkv_bias": 1}""", "qkv_bias", "true or false")]
    [InlineData("""{"family": "vit", "global_pool": "mean"}""", "global_pool", "\"token\"")]
    [InlineData("""{"family": "vit", "embed_dim": 64, "num_heads": 5}""", "num_heads", "divide")]
    [InlineData("""{"family": "convnext", "dims": [8, "16", 32, 64]}""", "dims[1]", "integer")]
    [InlineData("""{"family": "convnext", "depths": [1, 1, 1]}""", "depths", "4 stages")]
    [InlineData("""{"family": "resnet", "layers": [1, 1, 1, 1]}""", "block", "missing")]
    [InlineData("""{"family": "resnet", "block": "basik", "layers": [1, 1]}""", "block", "\"bottleneck\"")]
    [InlineData("""{"family": "resnet", "block": "basic"}""", "layers", "missing")]
    [InlineData("""{"family": "resnet", "block": "basic", "layers": [1], "channels": [8], "stem_type": "deep", "plain_stem_width": 32}""", "plain_stem_width", "plain stem")]
    [InlineData("""{"family": "resnet", "block": "basic", "layers": [1], "channels": [8], "pretrained_cfg": {"mean": [0.5], "std": [0.5, 0.5]}}""", "std", "mean")]
    [InlineData("""{"family": "resnet", "block": "basic", "layers": [1], "channels": [8], "pretrained_cfg": {"meen": [0.5]}}""", "meen", "unknown")]
    [InlineData("""{"family": "vgg"}""", "family", "\"resnet\"")]
    [InlineData("""{"depth": 2}""", "family", "missing")]
    [InlineData("""[1, 2]""", "$", "object")]
    [InlineData("""{"family": "vit", """, "JSON", "not valid")]
    public void BadSpecsAreRejectedNamingTheProperty(string json, string property, string problem)
    {
        var e = Assert.Throws<JsonException>(() => ModelSpec.FromJson(json));
        Assert.Contains(property, e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void UnknownPropertyErrorPointsAtItsPath()
    {
        var e = Assert.Throws<JsonException>(() => ModelSpec.FromJson("""{"family": "convnext", "ls_init_valu": 1.0}"""));
        Assert.Equal("$.ls_init_valu", e.Path);
        Assert.Contains("ls_init_value", e.Message); // the known names are listed
    }

    [Fact]
    public void FamilyArgumentMustAgreeWithTheJson()
    {
        var e = Assert.Throws<JsonException>(() => ModelSpec.FromJson("""{"family": "vit"}""", "resnet"));
        Assert.Contains("family", e.Message);
    }

    [Fact]
    public void PretrainedCfgSetsTheInputConventionAndSize()
    {
        var spec = ModelSpec.FromJson("""
            {"family": "resnet", "block": "basic", "layers": [2, 2, 2, 2],
             "pretrained_cfg": {"input_size": [3, 176, 176], "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25],
                                "interpolation": "bilinear", "crop_pct": 0.95}}
            """);
        Assert.Equal(176, spec.ImageSize);
        Assert.Equal(new[] { 0.5f, 0.5f, 0.5f }, spec.Input.Mean);
        Assert.Equal(new[] { 0.25f, 0.25f, 0.25f }, spec.Input.Std);
        Assert.Equal("bilinear", spec.Input.Interpolation);

        var e = Assert.Throws<JsonException>(() => ModelSpec.FromJson("""{"family": "vit", "img_size": 32, "pretrained_cfg": {"input_size": [3, 64, 64]}}"""));
        Assert.Contains("img_size", e.Message);
    }
}

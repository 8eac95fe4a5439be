using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Selection;
using Xunit;

namespace MLNet.WeightSelection.Tests.Selection;

public class SchemaTests
{
    [Fact]
    public void FamiliesAreDetectedFromTheirKeys()
    {
        using var vit = TestModels.Vit(new VitSize(4, 1, 4, 8), TestModels.Random(1));
        using var convnext = TestModels.ConvNeXt(new[] { 4, 4, 4, 4 }, new[] { 1, 1, 1, 1 }, true, TestModels.Random(1));
        using var resnet = TestModels.ResNet(true, new[] { 1, 1, 1, 1 }, new[] { 4, 4, 4, 4 }, 8, TestModels.Random(1));
        Assert.Same(FamilySchemas.Vit, FamilySchemas.Detect(vit.Keys));
        Assert.Same(FamilySchemas.ConvNeXt, FamilySchemas.Detect(convnext.Keys));
        Assert.Same(FamilySchemas.ResNet, FamilySchemas.Detect(resnet.Keys));
        Assert.Null(FamilySchemas.Detect(new[] { "encoder.layer.0.weight" }));
        Assert.Same(FamilySchemas.ConvNeXt, FamilySchemas.ByName("ConvNeXt"));
        // The built-in families register themselves at load, in no promised order; other tests may add their own.
        Assert.Superset(new HashSet<string> { "vit", "convnext", "resnet", "efficientnet", "swin" }, FamilySchemas.All.Select(s => s.Family).ToHashSet());
    }

    [Fact]
    public void ViTBindsQkvAsThreeBlocksOfTheInnerWidth()
    {
        var axes = FamilySchemas.Vit.Bind("blocks.7.attn.qkv.weight", 2)!;
        Assert.Equal(AxisBinding.Fused(3, "blocks.7.attn.inner"), axes[0]);
        Assert.Equal(AxisBinding.To("embed"), axes[1]);
        Assert.Equal(new[] { AxisBinding.To("embed"), AxisBinding.To("blocks.7.attn.inner") }, FamilySchemas.Vit.Bind("blocks.7.attn.proj.weight", 2));
        Assert.Null(FamilySchemas.Vit.Bind("blocks.7.attn.q_norm.weight", 1));
        Assert.Equal(new[] { AxisBinding.To("stages.1") }, FamilySchemas.ConvNeXt.Bind("stages.2.downsample.0.bias", 1));
        Assert.Equal(2, FamilySchemas.ResNet.Bind("layer2.0.downsample.1.weight", 4)!.Length); // avg_down convolution
        Assert.Single(FamilySchemas.ResNet.Bind("layer2.0.downsample.1.weight", 1)!);     // plain downsample's norm
        Assert.True(FamilySchemas.Vit.IsAttentionWidth("blocks.3.attn.inner"));
    }

    [Fact]
    public void AResNetBlockWithoutDownsampleTiesItsInputToItsOutput()
    {
        // Stem 16 feeds layer1 of width 16 with no downsample: the stem and layer1's output are one width.
        using var teacher = TestModels.ResNet(false, new[] { 2, 2, 2, 2 }, new[] { 16, 32, 64, 128 }, 16, TestModels.Encoded);
        using var student = TestModels.ResNet(false, new[] { 1, 1, 1, 1 }, new[] { 8, 16, 32, 64 }, 8, TestModels.Encoded);
        Assert.DoesNotContain("layer1.0.downsample.0.weight", student.Keys);

        using var result = WeightSelector.Select(teacher, student);

        var stem = TestModels.Decode(result.Weights["conv1.weight"], 0);
        Assert.Equal(new long[] { 0, 2, 4, 6, 8, 10, 12, 14 }, stem);
        Assert.Equal(stem, TestModels.Decode(result.Weights["layer1.0.bn2.running_mean"], 0));
        Assert.Equal(stem, TestModels.Decode(result.Weights["layer1.0.conv1.weight"], 1));
        Assert.Equal(stem, TestModels.Decode(result.Weights["layer2.0.downsample.0.weight"], 1));
        var width = result.Report.Widths.Single(w => w.Aliases.Contains("stem"));
        Assert.Equal("layer1.out", width.Name);
        Assert.Contains("layer1.0.inner2", width.Aliases);
        Assert.Equal("copy", result.Report.Row("bn1.num_batches_tracked").Method);
        Assert.Equal(7L, result.Weights["bn1.num_batches_tracked"].item<long>());
    }

    [Fact]
    public void BottleneckBlocksHaveTwoInnerWidthsAndTheStageOutput()
    {
        using var teacher = TestModels.ResNet(true, new[] { 2, 2, 2, 2 }, new[] { 8, 16, 32, 64 }, 16, TestModels.Encoded);
        using var student = TestModels.ResNet(true, new[] { 1, 1, 1, 1 }, new[] { 4, 8, 16, 32 }, 8, TestModels.Encoded);

        using var result = WeightSelector.Select(teacher, student);

        var inner = TestModels.Decode(result.Weights["layer2.0.conv1.weight"], 0);
        Assert.Equal(inner, TestModels.Decode(result.Weights["layer2.0.conv2.weight"], 1));
        var inner2 = TestModels.Decode(result.Weights["layer2.0.conv2.weight"], 0);
        Assert.Equal(inner2, TestModels.Decode(result.Weights["layer2.0.conv3.weight"], 1));
        Assert.Equal(inner2, TestModels.Decode(result.Weights["layer2.0.bn2.weight"], 0));
        var output = TestModels.Decode(result.Weights["layer2.0.conv3.weight"], 0);
        Assert.Equal(ElementSelection.UniformIndices(64, 32), output);
        Assert.Equal(output, TestModels.Decode(result.Weights["layer2.0.downsample.1.running_var"], 0));
        Assert.Equal(output, TestModels.Decode(result.Weights["layer3.0.conv1.weight"], 1));
        var widths = result.Report.Widths.Select(w => w.Name).ToHashSet();
        Assert.Contains("layer2.0.inner", widths);
        Assert.Contains("layer2.0.inner2", widths);
        Assert.Contains("layer2.out", widths);
    }

    [Fact]
    public void ComponentMappingReplacesTheLayerNumber()
    {
        var mapping = ComponentMapping.Create(FamilySchemas.ConvNeXt,
            new[] { "stem.0.weight", "stages.1.blocks.0.conv_dw.weight", "stages.1.blocks.1.conv_dw.weight", "stages.1.blocks.2.conv_dw.weight" },
            new[] { "stem.0.weight", "stages.1.blocks.0.conv_dw.weight", "stages.1.blocks.1.conv_dw.weight" }, LayerSelection.Last);
        Assert.Equal("stages.1.blocks.2.mlp.fc1.weight", mapping.TeacherKey("stages.1.blocks.1.mlp.fc1.weight"));
        Assert.Equal("stem.0.weight", mapping.TeacherKey("stem.0.weight"));
        Assert.Equal(new long[] { 8, 4, 1, 1 }, mapping.StudentShapeInTeacherRank("stages.1.blocks.1.mlp.fc1.weight", new long[] { 8, 4 }, new long[] { 16, 8, 1, 1 }));
        Assert.Null(mapping.StudentShapeInTeacherRank("stages.1.blocks.1.conv_dw.weight", new long[] { 8, 7, 7 }, new long[] { 16, 1, 7, 7 }));
    }

    [Fact]
    public void SelectIntoFillsAModuleAndKeepsItsClassifier()
    {
        var size = new VitSize(8, 2, 8, 16);
        using var teacher = TestModels.Vit(size, TestModels.Random(9));
        using var student = new ToyVit(new VitSize(4, 1, 4, 8));
        using var before = StateDict.FromModule(student);
        using var expected = WeightSelector.Select(teacher, before);

        var report = WeightSelector.SelectInto(teacher, student);

        using var after = StateDict.FromModule(student);
        Assert.Equal(before.Keys, after.Keys);
        foreach (var (key, value) in expected.Weights) TensorAssert.Identical(value, after[key], key);
        TensorAssert.Identical(before["head.weight"], after["head.weight"], "head.weight");
        Assert.False(TensorAssert.BitIdentical(before["blocks.0.mlp.fc1.weight"], after["blocks.0.mlp.fc1.weight"]));
        Assert.Equal(before.Count, report.Rows.Count);
        Assert.True(student.parameters().All(p => p.requires_grad));
    }
}

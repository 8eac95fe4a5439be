using MLNet.WeightSelection.Selection;
using Xunit;

namespace MLNet.WeightSelection.Tests.Selection;

public class LayerSelectionTests
{
    [Theory]
    [InlineData(LayerSelectionMethod.FirstN, new[] { 0, 1, 2, 3 })]
    [InlineData(LayerSelectionMethod.Uniform, new[] { 0, 4, 7, 11 })] // round(linspace(0, 11, 4)) = 0, 3.67, 7.33, 11
    [InlineData(LayerSelectionMethod.Middle, new[] { 4, 5, 6, 7 })]
    [InlineData(LayerSelectionMethod.Last, new[] { 8, 9, 10, 11 })]
    public void ViTDepth12To4PicksTheRightTeacherBlocks(LayerSelectionMethod method, int[] expected)
    {
        var selection = method switch
        {
            LayerSelectionMethod.FirstN => LayerSelection.FirstN,
            LayerSelectionMethod.Uniform => LayerSelection.Uniform,
            LayerSelectionMethod.Middle => LayerSelection.Middle,
            _ => LayerSelection.Last,
        };
        using var teacher = TestModels.Vit(new VitSize(8, 12, 8, 16), TestModels.Encoded);
        using var student = TestModels.Vit(new VitSize(4, 4, 4, 8), TestModels.Encoded);

        using var result = WeightSelector.Select(teacher, student, options: new SelectionOptions { LayerSelection = selection });

        Assert.Equal(expected, result.Report.Layers.Single(l => l.Group == "blocks").TeacherIndices);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal($"blocks.{expected[i]}.mlp.fc1.weight", result.Report.Row($"blocks.{i}.mlp.fc1.weight").TeacherKey);
            foreach (var part in new[] { "attn.qkv.weight", "attn.proj.bias", "norm2.weight", "mlp.fc2.weight" })
                Assert.Equal(expected[i], TestModels.DecodeLayer(result.Weights[$"blocks.{i}.{part}"]));
        }
    }

    [Fact]
    public void MiddleCentresTheRunAndUniformKeepsFirstAndLast()
    {
        Assert.Equal(new[] { 1, 2, 3 }, LayerSelection.Middle.Choose("g", 6, 3)); // start (6 - 3) / 2 = 1
        Assert.Equal(new[] { 0, 2, 5 }, LayerSelection.Uniform.Choose("g", 6, 3)); // 2.5 -> 2, half to even
        Assert.Equal(new[] { 0 }, LayerSelection.Uniform.Choose("g", 6, 1));
        Assert.Equal(new[] { 0, 1, 2 }, LayerSelection.Last.Choose("g", 3, 3));
    }

    [Fact]
    public void ConvNeXtSelectsLayersPerStage()
    {
        using var teacher = TestModels.ConvNeXt(new[] { 8, 16, 24, 32 }, new[] { 3, 3, 9, 3 }, false, TestModels.Encoded);
        using var student = TestModels.ConvNeXt(new[] { 4, 8, 12, 16 }, new[] { 2, 2, 6, 2 }, false, TestModels.Encoded);

        using var last = WeightSelector.Select(teacher, student, options: new SelectionOptions { LayerSelection = LayerSelection.Last });
        var layers = last.Report.Layers.ToDictionary(l => l.Group, l => l.TeacherIndices);
        Assert.Equal(new[] { "stages.0.blocks", "stages.1.blocks", "stages.2.blocks", "stages.3.blocks" }, layers.Keys.Order());
        Assert.Equal(new[] { 1, 2 }, layers["stages.0.blocks"]);
        Assert.Equal(new[] { 3, 4, 5, 6, 7, 8 }, layers["stages.2.blocks"]);
        Assert.Equal("stages.2.blocks.8.mlp.fc2.weight", last.Report.Row("stages.2.blocks.5.mlp.fc2.weight").TeacherKey);
        // Downsamples are not layers: they map by name.
        Assert.Equal("stages.2.downsample.1.weight", last.Report.Row("stages.2.downsample.1.weight").TeacherKey);

        using var firstN = WeightSelector.Select(teacher, student);
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 5 }, firstN.Report.Layers.Single(l => l.Group == "stages.2.blocks").TeacherIndices);
    }

    [Fact]
    public void ResNetSelectsLayersPerStageAndExplicitMapsOverrideOneGroup()
    {
        using var teacher = TestModels.ResNet(false, new[] { 3, 4, 6, 3 }, new[] { 8, 16, 32, 64 }, 16, TestModels.Encoded);
        using var student = TestModels.ResNet(false, new[] { 2, 2, 2, 2 }, new[] { 4, 8, 16, 32 }, 8, TestModels.Encoded);
        var options = new SelectionOptions
        {
            LayerSelection = LayerSelection.Explicit(new Dictionary<string, int[]> { ["layer3"] = new[] { 0, 5 } }, LayerSelection.Uniform),
        };

        using var result = WeightSelector.Select(teacher, student, options: options);

        var layers = result.Report.Layers.ToDictionary(l => l.Group, l => l.TeacherIndices);
        Assert.Equal(new[] { 0, 5 }, layers["layer3"]);
        Assert.Equal(new[] { 0, 3 }, layers["layer2"]); // uniform 4 -> 2: linspace(0, 3, 2)
        Assert.Equal(new[] { 0, 2 }, layers["layer1"]);
        Assert.Equal(0, TestModels.DecodeLayer(result.Weights["layer3.0.conv2.weight"]));
        Assert.Equal(5, TestModels.DecodeLayer(result.Weights["layer3.1.bn1.weight"]));
        Assert.Equal(3, TestModels.DecodeLayer(result.Weights["layer2.1.conv1.weight"]));
        Assert.Equal("layer3.5.bn1.running_var", result.Report.Row("layer3.1.bn1.running_var").TeacherKey);
    }

    [Fact]
    public void AResNetStagesFirstBlockMustTakeATeacherBlockWithADownsample()
    {
        // Last-N maps layer2.0 (which holds the stage's downsample) onto a teacher block without one: a clear error.
        using var teacher = TestModels.ResNet(false, new[] { 1, 3, 1, 1 }, new[] { 8, 16, 32, 64 }, 16, TestModels.Encoded);
        using var student = TestModels.ResNet(false, new[] { 1, 2, 1, 1 }, new[] { 4, 8, 16, 32 }, 8, TestModels.Encoded);
        var error = Assert.Throws<WeightSelectionException>(() =>
            WeightSelector.Select(teacher, student, options: new SelectionOptions { LayerSelection = LayerSelection.Last }));
        Assert.Contains(error.Problems, p => p.Kind == SelectionProblemKind.MissingTeacherKey && p.Key == "layer2.0.downsample.0.weight"
            && p.Detail.Contains("layer2.1.downsample.0.weight"));
    }

    [Fact]
    public void AnExplicitMapNamingAGroupTheStudentLacksIsAnError()
    {
        using var teacher = TestModels.ResNet(false, new[] { 3, 4, 6, 3 }, new[] { 8, 16, 32, 64 }, 16, TestModels.Encoded);
        using var student = TestModels.ResNet(false, new[] { 2, 2, 2, 2 }, new[] { 4, 8, 16, 32 }, 8, TestModels.Encoded);
        var options = new SelectionOptions
        {
            LayerSelection = LayerSelection.Explicit(new Dictionary<string, int[]> { ["layer5"] = new[] { 0, 1 } }, LayerSelection.FirstN),
        };

        var error = Assert.Throws<WeightSelectionException>(() => WeightSelector.Select(teacher, student, options: options));

        var problem = Assert.Single(error.Problems);
        Assert.Equal(SelectionProblemKind.InvalidOptions, problem.Kind);
        Assert.Equal("layer5", problem.Key);
        Assert.Contains("its groups: layer1, layer2, layer3, layer4", problem.Detail);
    }

    [Fact]
    public void AnExplicitMapThatDoesNotFitIsAnError()
    {
        Assert.Throws<ArgumentException>(() => LayerSelection.Explicit(new Dictionary<string, int[]> { ["blocks"] = new[] { 0, 9 } }).Choose("blocks", 4, 2));
        Assert.Throws<ArgumentException>(() => LayerSelection.Explicit(new Dictionary<string, int[]> { ["blocks"] = new[] { 0 } }).Choose("blocks", 4, 2));
        Assert.Throws<ArgumentException>(() => LayerSelection.Explicit(new Dictionary<string, int[]>()).Choose("blocks", 4, 2));
    }
}

using MLNet.WeightSelection.Selection;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Selection;

/// <summary>ConvNeXt's conv_mlp presets (atto–nano) hold fc1/fc2 as 1×1 convolutions; tiny+ as Linear layers.</summary>
public class ConvNeXtMappingTests
{
    static readonly int[] TeacherDims = { 16, 32, 64, 128 }, TeacherDepths = { 2, 2, 3, 2 };
    static readonly int[] StudentDims = { 8, 16, 32, 64 }, StudentDepths = { 1, 1, 2, 1 };

    [Theory]
    [InlineData(false, true)] // convnext_tiny-like teacher (Linear) -> convnext_femto-like student (1x1 conv)
    [InlineData(true, false)]
    public void ConvMlpAndLinearMapOntoEachOtherByReshaping(bool teacherConvMlp, bool studentConvMlp)
    {
        using var teacher = TestModels.ConvNeXt(TeacherDims, TeacherDepths, teacherConvMlp, TestModels.Random(4));
        using var student = TestModels.ConvNeXt(StudentDims, StudentDepths, studentConvMlp, TestModels.Random(5));

        using var result = WeightSelector.Select(teacher, student);

        const string fc1 = "stages.2.blocks.1.mlp.fc1.weight", fc2 = "stages.2.blocks.1.mlp.fc2.weight";
        using var hidden = tensor(ElementSelection.UniformIndices(256, 128));
        using var stage = tensor(ElementSelection.UniformIndices(64, 32));
        var teacherFc1 = teacher[fc1].reshape(256, 64);
        var teacherFc2 = teacher[fc2].reshape(64, 256);
        TensorAssert.Identical(teacherFc1.index_select(0, hidden).index_select(1, stage).reshape(student[fc1].shape), result.Weights[fc1], fc1);
        TensorAssert.Identical(teacherFc2.index_select(0, stage).index_select(1, hidden).reshape(student[fc2].shape), result.Weights[fc2], fc2);
        Assert.Equal("uniform+reshaped", result.Report.Row(fc1).Method);
        Assert.Equal(studentConvMlp ? 4 : 2, result.Weights[fc1].dim());
    }

    [Fact]
    public void HeadNormIsSelectedFromTheLastStageWidthAndTheClassifierKeepsItsInit()
    {
        using var teacher = TestModels.ConvNeXt(TeacherDims, TeacherDepths, false, TestModels.Encoded);
        using var student = TestModels.ConvNeXt(StudentDims, StudentDepths, false, TestModels.Encoded);
        using var result = WeightSelector.Select(teacher, student);

        var stage3 = TestModels.Decode(result.Weights["stages.3.blocks.0.gamma"], 0);
        Assert.Equal(ElementSelection.UniformIndices(128, 64), stage3);
        Assert.Equal(stage3, TestModels.Decode(result.Weights["head.norm.weight"], 0));
        Assert.Equal(TestModels.Decode(result.Weights["stages.2.blocks.0.norm.bias"], 0), TestModels.Decode(result.Weights["stages.3.downsample.0.weight"], 0));
        Assert.Equal(TestModels.Decode(result.Weights["stages.2.blocks.0.gamma"], 0), TestModels.Decode(result.Weights["stages.3.downsample.1.weight"], 1));
        Assert.Equal(TestModels.Decode(result.Weights["stem.1.weight"], 0), TestModels.Decode(result.Weights["stages.0.blocks.0.conv_dw.weight"], 0));
        Assert.Equal("kept student init", result.Report.Row("head.fc.weight").Method);
        TensorAssert.Identical(student["head.fc.weight"], result.Weights["head.fc.weight"], "head.fc.weight");
        Assert.Contains(result.Report.Widths, w => w.Name == "stages.3" && w.Aliases.Contains("features"));
    }
}

using MLNet.WeightSelection.Selection;
using Xunit;

namespace MLNet.WeightSelection.Tests.Selection;

public class WholeHeadsTests
{
    [Theory]
    [InlineData(8, 4, 4, 2, new long[] { 0, 1, 4, 5 })]                // heads 0, 2 of 4 (head_dim 2, kept)
    [InlineData(24, 6, 6, 3, new long[] { 0, 2, 8, 10, 16, 18 })]      // heads 0, 2, 4; dims 0, 2 of each 4-dim head
    [InlineData(12, 4, 6, 3, new long[] { 0, 2, 6, 8, 9, 11 })]        // heads round(linspace(0, 3, 3)) = 0, 2, 3; dims 0, 2 of 3
    public void HeadsAreSelectedAsUnits(int teacherInner, int teacherHeads, int studentInner, int studentHeads, long[] expected)
    {
        using var teacher = TestModels.Vit(new VitSize(8, 1, teacherInner, 8), TestModels.Encoded);
        var shapes = ConsistencyPropertyTests.StudentShapes(new VitSize(4, 1, studentInner, 8));
        var options = new SelectionOptions { WholeHeads = true, TeacherHeads = teacherHeads, StudentHeads = studentHeads };

        using var result = WeightSelector.Select(teacher, shapes, options: options);

        Assert.Equal(expected, result.Report.Widths.Single(w => w.Name == "blocks.0.attn.inner").Indices);
        Assert.Equal(expected, TestModels.Decode(result.Weights["blocks.0.attn.proj.weight"], 1));
        var rows = TestModels.Decode(result.Weights["blocks.0.attn.qkv.weight"], 0);
        for (int b = 0; b < 3; b++)
            Assert.Equal(expected.Select(i => i + b * teacherInner), rows[(b * studentInner)..((b + 1) * studentInner)]);
        Assert.Equal("uniform (whole heads)", result.Report.Row("blocks.0.attn.qkv.weight").Method);
        Assert.Equal("uniform", result.Report.Row("blocks.0.mlp.fc1.weight").Method);
    }

    [Fact]
    public void L1RanksWholeHeads()
    {
        using var teacher = TestModels.Vit(new VitSize(8, 1, 8, 8), TestModels.Random(6));
        var proj = teacher["blocks.0.attn.proj.weight"].clone();
        proj.index_fill_(1, TorchSharp.torch.tensor(new long[] { 2, 3, 6, 7 }), 40.0); // heads 1 and 3 (head_dim 2) weigh most
        teacher["blocks.0.attn.proj.weight"] = proj;
        var options = new SelectionOptions { WholeHeads = true, TeacherHeads = 4, StudentHeads = 2, ElementSelection = ElementSelection.L1 };

        using var result = WeightSelector.Select(teacher, ConsistencyPropertyTests.StudentShapes(new VitSize(4, 1, 4, 8)), options: options);

        Assert.Equal(new long[] { 2, 3, 6, 7 }, result.Report.Widths.Single(w => w.Name == "blocks.0.attn.inner").Indices);
        Assert.Equal("l1 (whole heads)", result.Report.Row("blocks.0.attn.proj.weight").Method);
    }

    [Fact]
    public void WithoutWholeHeadsDimensionsAreTakenAcrossAllHeads()
    {
        using var teacher = TestModels.Vit(new VitSize(8, 1, 8, 8), TestModels.Encoded);
        using var result = WeightSelector.Select(teacher, ConsistencyPropertyTests.StudentShapes(new VitSize(4, 1, 4, 8)));
        Assert.Equal(new long[] { 0, 2, 4, 6 }, result.Report.Widths.Single(w => w.Name == "blocks.0.attn.inner").Indices);
    }

    [Fact]
    public void HeadsThatDoNotDivideTheWidthAreAShapeError()
    {
        using var teacher = TestModels.Vit(new VitSize(8, 1, 8, 8), TestModels.Encoded);
        var options = new SelectionOptions { WholeHeads = true, TeacherHeads = 3, StudentHeads = 2 };
        var error = Assert.Throws<WeightSelectionException>(() =>
            WeightSelector.Select(teacher, ConsistencyPropertyTests.StudentShapes(new VitSize(4, 1, 4, 8)), options: options));
        Assert.Contains(error.Problems, p => p.Kind == SelectionProblemKind.ShapeMismatch && p.Key == "blocks.0.attn.inner");
    }
}

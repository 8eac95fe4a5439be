using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Selection;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Selection;

/// <summary>The element-selection methods other than uniform, fallbacks, and position-embedding resampling.</summary>
public class MethodTests
{
    static SelectionSchema Toy(params WidthRule[] rules) => new() { Family = "toy", Signature = new[] { "w" }, Rules = rules };

    [Fact]
    public void L1RanksAWidthOnceOverAllItsTensorsAndAppliesItEverywhere()
    {
        using var teacher = TestModels.Vit(new VitSize(8, 1, 8, 8), TestModels.Random(3));
        foreach (var (key, hiddenAxis) in new[] { ("blocks.0.mlp.fc1.weight", 0L), ("blocks.0.mlp.fc2.weight", 1L) })
        {
            var w = teacher[key].clone();
            w.index_fill_(hiddenAxis, tensor(new long[] { 1, 5 }), 0.0); // shrink hidden units 1 and 5 ...
            teacher[key] = w;
        }
        teacher["blocks.0.mlp.fc1.weight"] = teacher["blocks.0.mlp.fc1.weight"].index_fill(0, tensor(new long[] { 6 }), 50.0); // ... grow 6
        using var result = WeightSelector.Select(teacher, ConsistencyPropertyTests.StudentShapes(new VitSize(8, 1, 8, 6)),
            options: new SelectionOptions { ElementSelection = ElementSelection.L1 });

        var hidden = result.Report.Widths.Single(w => w.Name == "blocks.0.mlp.hidden").Indices!;
        Assert.Equal(new long[] { 0, 2, 3, 4, 6, 7 }, hidden);
        using var index = tensor(hidden);
        TensorAssert.Identical(teacher["blocks.0.mlp.fc2.weight"].index_select(1, index), result.Weights["blocks.0.mlp.fc2.weight"], "fc2");
        TensorAssert.Identical(teacher["blocks.0.mlp.fc1.bias"].index_select(0, index), result.Weights["blocks.0.mlp.fc1.bias"], "fc1.bias");
        Assert.Equal("l1", result.Report.Row("blocks.0.mlp.fc1.weight").Method);
    }

    [Fact]
    public void MagnitudeKeepsTheLargestElementsInOriginalOrder()
    {
        using var teacher = new StateDict { { "w", tensor(new float[] { 1, -9, 2, 8, 0, -7 }, new long[] { 2, 3 }) } };
        var schema = Toy(new WidthRule("w", AxisBinding.To("a"), AxisBinding.To("b")));
        using var result = WeightSelector.Select(teacher, new Dictionary<string, long[]> { ["w"] = new long[] { 1, 3 } }, schema,
            new SelectionOptions { ElementSelection = ElementSelection.Magnitude });
        Assert.Equal(new float[] { -9, 8, -7 }, result.Weights["w"].data<float>().ToArray());
        Assert.Equal("magnitude", result.Report.Row("w").Method);
    }

    [Fact]
    public void ConsecutiveTakesTheFirstIndicesOfEveryWidth()
    {
        using var teacher = TestModels.Vit(new VitSize(8, 1, 8, 12), TestModels.Encoded);
        using var result = WeightSelector.Select(teacher, ConsistencyPropertyTests.StudentShapes(new VitSize(3, 1, 2, 5)),
            options: new SelectionOptions { ElementSelection = ElementSelection.Consecutive });
        Assert.Equal(new long[] { 0, 1, 2 }, TestModels.Decode(result.Weights["blocks.0.mlp.fc2.weight"], 0));
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, TestModels.Decode(result.Weights["blocks.0.mlp.fc2.weight"], 1));
        Assert.Equal(new long[] { 0, 1, 8, 9, 16, 17 }, TestModels.Decode(result.Weights["blocks.0.attn.qkv.weight"], 0));
    }

    [Fact]
    public void AnUnknownTensorFallsBackToPerAxisSelectionAndTheReportSaysSo()
    {
        using var teacher = TestModels.Vit(new VitSize(8, 1, 8, 8), TestModels.Encoded);
        teacher.Add("blocks.0.attn.q_norm.weight", TestModels.Encoded("q", new long[] { 6, 4 }));
        var shapes = ConsistencyPropertyTests.StudentShapes(new VitSize(4, 1, 4, 8));
        shapes["blocks.0.attn.q_norm.weight"] = new long[] { 3, 4 };
        shapes["patch_embed.proj.weight"] = new long[] { 4, 1, 2, 2 }; // a known tensor whose in_chans axis shrinks

        using var result = WeightSelector.Select(teacher, shapes);

        Assert.Equal(new long[] { 0, 2, 4 }, TestModels.Decode(result.Weights["blocks.0.attn.q_norm.weight"], 0));
        var unknown = result.Report.Row("blocks.0.attn.q_norm.weight");
        Assert.Equal("per-axis fallback (uniform)", unknown.Method);
        Assert.Contains("not in the vit schema", unknown.Note);
        var patch = result.Report.Row("patch_embed.proj.weight");
        Assert.Equal("uniform", patch.Method);
        Assert.Contains("per-axis fallback on unbound axis 1 (3 -> 1)", patch.Note);
        Assert.Equal(new long[] { 0 }, TestModels.Decode(result.Weights["patch_embed.proj.weight"], 1));
    }

    [Theory]
    [InlineData(3)] // a smaller grid
    [InlineData(5)] // a larger grid: the token axis is resampled, never selected
    public void PositionEmbeddingsOnAnotherGridAreResampledThenSelected(int side)
    {
        using var teacher = TestModels.Vit(new VitSize(8, 1, 8, 8, Tokens: 17), TestModels.Random(7));
        using var student = TestModels.Vit(new VitSize(4, 1, 4, 8, Tokens: side * side + 1), TestModels.Random(8));

        using var result = WeightSelector.Select(teacher, student);

        using var expected = PositionEmbeddings.Resample(teacher["pos_embed"], (side, side), numPrefixTokens: 1)
            .index_select(2, tensor(new long[] { 0, 2, 4, 6 }));
        TensorAssert.Identical(expected, result.Weights["pos_embed"], "pos_embed");
        Assert.Equal("resampled+uniform", result.Report.Row("pos_embed").Method);
        Assert.Equal("[-, tokens, embed]", result.Report.Row("pos_embed").Widths);
    }

    [Fact]
    public void TheCallerCanNameTheClassifierKeys()
    {
        using var teacher = TestModels.Vit(new VitSize(8, 1, 8, 8), TestModels.Encoded);
        using var student = TestModels.Vit(new VitSize(4, 1, 4, 8), TestModels.Random(1));

        using var all = WeightSelector.Select(teacher, student, options: new SelectionOptions { ClassifierKeys = Array.Empty<string>() });
        Assert.Equal(new long[] { 0, 2, 4, 6 }, TestModels.Decode(all.Weights["head.weight"], 1)); // same classes: selected too
        Assert.Equal("uniform", all.Report.Row("head.weight").Method);

        using var norm = WeightSelector.Select(teacher, student, options: new SelectionOptions { ClassifierKeys = new[] { "norm.weight" } });
        TensorAssert.Identical(student["norm.weight"], norm.Weights["norm.weight"], "norm.weight");
        Assert.Equal("copy", norm.Report.Row("head.bias").Method); // 5 classes in both
    }

    [Fact]
    public void AStudentGivenAsShapesGetsEveryTensorButTheClassifier()
    {
        using var teacher = TestModels.Vit(new VitSize(8, 1, 8, 8), TestModels.Random(1));
        var shapes = ConsistencyPropertyTests.StudentShapes(new VitSize(4, 1, 4, 8));
        using var result = WeightSelector.Select(teacher, shapes);
        Assert.Equal(shapes.Keys.Where(k => !k.StartsWith("head.")), result.Weights.Keys);
        Assert.Equal(shapes.Count, result.Report.Rows.Count);
        Assert.Equal("kept student init", result.Report.Row("head.bias").Method);
    }

    [Fact]
    public void DtypesFollowTheStudentAndProgressIsReported()
    {
        using var teacher = TestModels.Vit(new VitSize(8, 1, 8, 8), TestModels.Encoded); // float64
        using var student = TestModels.Vit(new VitSize(4, 1, 4, 8), TestModels.Random(1)); // float32
        var progress = new List<SelectionProgress>();
        using var result = WeightSelector.Select(teacher, student,
            options: new SelectionOptions { Progress = new SynchronousProgress(progress.Add) });
        Assert.All(result.Weights, kv => Assert.Equal(ScalarType.Float32, kv.Value.dtype));
        Assert.Equal(student.Count, progress.Count);
        Assert.Equal(student.Count, progress[^1].Done);
        Assert.Equal(student.Keys, progress.Select(p => p.Key));
    }

    sealed class SynchronousProgress(Action<SelectionProgress> report) : IProgress<SelectionProgress>
    {
        public void Report(SelectionProgress value) => report(value);
    }
}

using CsCheck;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Selection;
using Xunit;

namespace MLNet.WeightSelection.Tests.Selection;

/// <summary>Consistency by construction: every tensor axis tied to a width takes that width's one index set.</summary>
public class ConsistencyPropertyTests
{
    static readonly ElementSelection[] Consistent =
        { ElementSelection.Uniform, ElementSelection.Consecutive, ElementSelection.RandomConsistent(11), ElementSelection.L1 };

    static readonly Gen<(VitSize Teacher, VitSize Student, int Method)> VitPairs =
        from te in Gen.Int[2, 20]
        from se in Gen.Int[1, te]
        from ti in Gen.Int[1, 20]
        from si in Gen.Int[1, ti]
        from th in Gen.Int[1, 24]
        from sh in Gen.Int[1, th]
        from td in Gen.Int[1, 3]
        from sd in Gen.Int[1, td]
        from method in Gen.Int[0, Consistent.Length - 1]
        select (new VitSize(te, td, ti, th), new VitSize(se, sd, si, sh), method);

    [Fact]
    public void EveryAxisTiedToAWidthTakesTheSameIndices() =>
        VitPairs.Sample((teacherSize, studentSize, method) =>
        {
            using var teacher = TestModels.Vit(teacherSize, TestModels.Encoded);
            var shapes = StudentShapes(studentSize);
            using var result = WeightSelector.Select(teacher, shapes, options: new SelectionOptions { ElementSelection = Consistent[method] });
            AssertViTConsistent(result.Weights, studentSize, teacherSize.Inner);
        }, iter: 40, threads: 1);

    [Fact]
    public void NonDivisibleWidthsKeepQKVAndProjAligned()
    {
        var teacherSize = new VitSize(64, 2, 64, 96);
        var studentSize = new VitSize(24, 2, 24, 40);
        using var teacher = TestModels.Vit(teacherSize, TestModels.Encoded);
        using var result = WeightSelector.Select(teacher, StudentShapes(studentSize));

        AssertViTConsistent(result.Weights, studentSize, teacherSize.Inner);
        var expected = ElementSelection.UniformIndices(64, 24);
        var rows = TestModels.Decode(result.Weights["blocks.0.attn.qkv.weight"], 0);
        Assert.Equal(expected, rows[..24]);                     // q
        Assert.Equal(expected.Select(i => i + 64), rows[24..48]); // k
        Assert.Equal(expected.Select(i => i + 128), rows[48..]);  // v
        Assert.Equal(expected, TestModels.Decode(result.Weights["blocks.0.attn.proj.weight"], 1));
        // Per-axis selection of the fused axis (192 -> 72) would have misaligned k and v with q.
        Assert.NotEqual(ElementSelection.UniformIndices(192, 72), rows);
    }

    [Fact]
    public void EqualShapesGiveAnExactCopyForEveryMethod()
    {
        var methods = Consistent.Concat(new[] { ElementSelection.RandomInconsistent(5), ElementSelection.Magnitude }).ToArray();
        Gen.Select(Gen.Int[1, 12], Gen.Int[1, 12], Gen.Int[0, methods.Length - 1]).Sample((embed, hidden, method) =>
        {
            var size = new VitSize(embed, 2, embed, hidden);
            using var teacher = TestModels.Vit(size, TestModels.Random(embed * 100 + hidden));
            using var student = TestModels.Vit(size, TestModels.Random(1));
            using var result = WeightSelector.Select(teacher, student, options: new SelectionOptions { ElementSelection = methods[method] });
            foreach (var (key, value) in result.Weights)
            {
                var expected = key.StartsWith("head.") ? student[key] : teacher[key];
                TensorAssert.Identical(expected, value, key);
            }
            Assert.All(result.Report.Rows, r => Assert.Contains(r.Method, new[] { "copy", "kept student init" }));
        }, iter: 20, threads: 1);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RandomSelectionIsDeterministicForASeedAndDiffersAcrossSeeds(bool consistent)
    {
        ElementSelection Method(int seed) => consistent ? ElementSelection.RandomConsistent(seed) : ElementSelection.RandomInconsistent(seed);
        using var teacher = TestModels.Vit(new VitSize(64, 2, 64, 96), TestModels.Random(2));
        var shapes = StudentShapes(new VitSize(24, 2, 24, 40));
        using var a = WeightSelector.Select(teacher, shapes, options: new SelectionOptions { ElementSelection = Method(1) });
        using var b = WeightSelector.Select(teacher, shapes, options: new SelectionOptions { ElementSelection = Method(1) });
        using var c = WeightSelector.Select(teacher, shapes, options: new SelectionOptions { ElementSelection = Method(2) });

        foreach (var (key, value) in a.Weights) TensorAssert.Identical(value, b.Weights[key], key);
        Assert.False(TensorAssert.BitIdentical(a.Weights["blocks.0.mlp.fc1.weight"], c.Weights["blocks.0.mlp.fc1.weight"]));
        Assert.False(TensorAssert.BitIdentical(a.Weights["pos_embed"], c.Weights["pos_embed"]));
    }

    [Fact]
    public void RandomWithoutConsistencyDrawsEachAxisOnItsOwn()
    {
        using var teacher = TestModels.Vit(new VitSize(64, 1, 64, 96), TestModels.Encoded);
        using var result = WeightSelector.Select(teacher, StudentShapes(new VitSize(24, 1, 24, 40)),
            options: new SelectionOptions { ElementSelection = ElementSelection.RandomInconsistent(3) });

        var fc1Hidden = TestModels.Decode(result.Weights["blocks.0.mlp.fc1.weight"], 0);
        var fc2Hidden = TestModels.Decode(result.Weights["blocks.0.mlp.fc2.weight"], 1);
        Assert.NotEqual(fc1Hidden, fc2Hidden);
        Assert.NotEqual(TestModels.Decode(result.Weights["norm.weight"], 0), TestModels.Decode(result.Weights["blocks.0.norm1.weight"], 0));
        Assert.All(result.Report.Widths, w => Assert.Null(w.Indices));
    }

    internal static Dictionary<string, long[]> StudentShapes(VitSize size)
    {
        using var shapes = TestModels.Vit(size, (_, shape) => TorchSharp.torch.empty(shape));
        return shapes.Keys.ToDictionary(k => k, k => shapes[k].shape);
    }

    internal static void AssertViTConsistent(StateDict weights, VitSize student, int teacherInner)
    {
        var embed = TestModels.Decode(weights["norm.weight"], 0);
        Assert.Equal(embed.Distinct().Count(), embed.Length);
        var embedAxes = new List<(string Key, int Axis)>
        {
            ("cls_token", 2), ("pos_embed", 2), ("patch_embed.proj.weight", 0), ("patch_embed.proj.bias", 0), ("norm.bias", 0),
        };
        for (int i = 0; i < student.Depth; i++)
        {
            string b = $"blocks.{i}.";
            embedAxes.AddRange(new[]
            {
                (b + "norm1.weight", 0), (b + "norm1.bias", 0), (b + "norm2.weight", 0), (b + "attn.qkv.weight", 1),
                (b + "attn.proj.weight", 0), (b + "attn.proj.bias", 0), (b + "mlp.fc1.weight", 1), (b + "mlp.fc2.weight", 0),
                (b + "mlp.fc2.bias", 0),
            });

            var hidden = TestModels.Decode(weights[b + "mlp.fc1.weight"], 0);
            Assert.Equal(hidden, TestModels.Decode(weights[b + "mlp.fc1.bias"], 0));
            Assert.Equal(hidden, TestModels.Decode(weights[b + "mlp.fc2.weight"], 1));

            var inner = TestModels.Decode(weights[b + "attn.proj.weight"], 1);
            foreach (var key in new[] { b + "attn.qkv.weight", b + "attn.qkv.bias" })
            {
                var rows = TestModels.Decode(weights[key], 0);
                for (int block = 0; block < 3; block++)
                    Assert.Equal(inner.Select(x => x + block * teacherInner), rows[(block * student.Inner)..((block + 1) * student.Inner)]);
            }
        }
        foreach (var (key, axis) in embedAxes)
            Assert.True(embed.SequenceEqual(TestModels.Decode(weights[key], axis)), $"'{key}' axis {axis} does not take the embed indices.");
    }
}

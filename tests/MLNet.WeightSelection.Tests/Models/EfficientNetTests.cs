using System.Text.Json;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.EfficientNet;
using MLNet.WeightSelection.Selection;
using MLNet.WeightSelection.Tests.Training;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Models;

/// <summary>
/// The EfficientNet family against timm facts (checked with timm at the golden commit: parameter counts, stage
/// depths and widths, key shapes, depth scaling of several block strings per stage), its block strings and spec
/// JSON, selection on the golden case (shared residual indices, clear errors), loading and a few training steps.
/// </summary>
public class EfficientNetTests
{
    const string Mini = "efficientnet_mini";

    [Theory]
    [InlineData("efficientnet_b0", 5_288_548L)]
    [InlineData("efficientnet_b1", 7_794_184L)]
    [InlineData("efficientnet_b2", 9_109_994L)]
    [InlineData("efficientnet_b3", 12_233_232L)]
    [InlineData("efficientnet_mini", 173_986L)] // the same configuration built by timm's EfficientNet class
    public void ParameterCountMatchesTimm(string preset, long expected)
    {
        using var model = ModelRegistry.Create(preset);
        Assert.Equal(expected, model.parameters().Sum(p => p.numel()));
    }

    [Theory]
    [InlineData("efficientnet_b0", 32, 1280, 224, new[] { 1, 2, 2, 3, 3, 4, 1 }, new[] { 16, 24, 40, 80, 112, 192, 320 })]
    [InlineData("efficientnet_b1", 32, 1280, 240, new[] { 2, 3, 3, 4, 4, 5, 2 }, new[] { 16, 24, 40, 80, 112, 192, 320 })]
    [InlineData("efficientnet_b2", 32, 1408, 256, new[] { 2, 3, 3, 4, 4, 5, 2 }, new[] { 16, 24, 48, 88, 120, 208, 352 })]
    [InlineData("efficientnet_b3", 40, 1536, 288, new[] { 2, 3, 3, 5, 5, 6, 2 }, new[] { 24, 32, 48, 96, 136, 232, 384 })]
    public void PresetsHaveTimmsStagesAndWidths(string preset, int stem, int features, int imageSize, int[] depths, int[] widths)
    {
        var spec = (EfficientNetSpec)ModelRegistry.GetSpec(preset);
        Assert.Equal(stem, spec.StemChannels);
        Assert.Equal(features, spec.NumFeatures);
        Assert.Equal(imageSize, spec.ImageSize);
        Assert.Equal(depths, spec.StageDepths);
        Assert.Equal(widths, spec.StageChannels);
        // timm's default pretrained tag of b1 is the ra4 one, with Inception mean/std.
        Assert.Equal(preset == "efficientnet_b1" ? InputConvention.Inception : InputConvention.ImageNet, spec.Input);
    }

    [Fact]
    public void B0HasTimmsKeysAndShapes()
    {
        using var model = ModelRegistry.Create("efficientnet_b0");
        var sd = model.state_dict();
        Assert.Equal(360, sd.Count);
        PresetArchitectureTests.AssertShape(sd, "conv_stem.weight", 32, 3, 3, 3);
        PresetArchitectureTests.AssertShape(sd, "blocks.0.0.conv_dw.weight", 32, 1, 3, 3);
        PresetArchitectureTests.AssertShape(sd, "blocks.0.0.se.conv_reduce.weight", 8, 32, 1, 1);
        PresetArchitectureTests.AssertShape(sd, "blocks.0.0.conv_pw.weight", 16, 32, 1, 1);
        PresetArchitectureTests.AssertShape(sd, "blocks.1.0.conv_pw.weight", 96, 16, 1, 1);
        PresetArchitectureTests.AssertShape(sd, "blocks.1.0.se.conv_reduce.weight", 4, 96, 1, 1);
        PresetArchitectureTests.AssertShape(sd, "blocks.1.0.se.conv_expand.bias", 96);
        PresetArchitectureTests.AssertShape(sd, "blocks.2.0.conv_dw.weight", 144, 1, 5, 5);
        PresetArchitectureTests.AssertShape(sd, "blocks.5.3.se.conv_reduce.weight", 48, 1152, 1, 1);
        PresetArchitectureTests.AssertShape(sd, "blocks.6.0.conv_pwl.weight", 320, 1152, 1, 1);
        PresetArchitectureTests.AssertShape(sd, "blocks.6.0.bn3.running_var", 320);
        PresetArchitectureTests.AssertShape(sd, "conv_head.weight", 1280, 320, 1, 1);
        PresetArchitectureTests.AssertShape(sd, "classifier.weight", 1000, 1280);
        Assert.Equal(ScalarType.Int64, sd["blocks.3.2.bn2.num_batches_tracked"].dtype);
        Assert.Equal(42_016L, sd.Where(kv => kv.Key.Contains("running")).Sum(kv => kv.Value.numel()));
        Assert.Equal(new[] { "classifier.weight", "classifier.bias" }, model.ClassifierKeys);
    }

    [Fact]
    public void DepthScalingSharesRepeatsOverTheStagesBlockStringsAsTimm()
    {
        // timm's decode_arch_def: [r1 k3, r3 k5] × 1.5 → 2 × k3, 4 × k5 (4.5 rounds to even); × 2.3 → 2 and 8.
        var spec = new EfficientNetSpec
        {
            ArchDef = new[] { new[] { "ir_r1_k3_s1_e6_c16", "ir_r3_k5_s1_e6_c16" }, new[] { "ds_r2_k3_s1_c8" } },
            DepthMultiplier = 1.5, StemSize = 16, NumFeatures = 32,
        };
        Assert.Equal(new[] { 3, 3, 5, 5, 5, 5 }, spec.Blocks()[0].Select(b => b.KernelSize));
        Assert.Equal(new[] { 6, 3 }, spec.StageDepths);
        var deeper = spec with { DepthMultiplier = 2.3 };
        Assert.Equal(new[] { 3, 3, 5, 5, 5, 5, 5, 5, 5, 5 }, deeper.Blocks()[0].Select(b => b.KernelSize));
        Assert.Equal(new[] { 10, 5 }, deeper.StageDepths);
    }

    [Fact]
    public void BlocksFollowTimmsBuilder()
    {
        var spec = (EfficientNetSpec)ModelRegistry.GetSpec("efficientnet_b2") with { DropPathRate = 0.2 };
        var blocks = spec.Blocks();
        var flat = blocks.SelectMany(s => s).ToList();
        // SE from the block's input: b2's stage 2 (24 → 48) has mid 144 and SE 6, then mid 288 and SE 12.
        Assert.Equal(new[] { (144, 6), (288, 12), (288, 12) }, blocks[2].Select(b => (b.MidChannels, b.SeChannels)));
        Assert.Equal(new[] { 2, 1, 1 }, blocks[2].Select(b => b.Stride));
        Assert.Equal(new[] { false, true, true }, blocks[2].Select(b => b.HasSkip));
        // ds: a second block of the same width is residual (b1 and up repeat the first stage).
        Assert.Equal(new[] { false, true }, blocks[0].Select(b => b.HasSkip));
        Assert.Equal(new[] { 8, 4 }, blocks[0].Select(b => b.SeChannels));
        // timm's drop path: rate · i / n over all blocks.
        Assert.Equal(0.2 * 5 / flat.Count, flat[5].DropPathRate);
        Assert.Equal(0.0, flat[0].DropPathRate);
    }

    [Theory]
    [InlineData("mb_r1_k3_s1_e6_c16", "block type 'mb'")]
    [InlineData("ir_r1_k3_s1_c16", "'e' is missing")]
    [InlineData("ir_r1_k3_s3_e6_c16", "s must be 1 or 2")]
    [InlineData("ir_r1_k3_s1_e6_c16_nre", "'nre' is not supported")]
    [InlineData("ir_r1_k3_s1_e6_c16_gs8", "'gs8' is not supported")]
    [InlineData("ir_r1_k3_s1_e6_cx", "option 'cx' is not supported")]
    [InlineData("ir_r1_k3_s1_e6", "'c' is missing")]
    [InlineData("ds_r1_k3_s1_c16_se2", "se must lie in [0, 1]")]
    public void BadBlockStringsAreRefusedByName(string text, string problem)
    {
        var e = Assert.Throws<ArgumentException>(() => EfficientNetBlockDef.Parse(text));
        Assert.Contains($"'{text}'", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void BlockStringsParseAsTimmReadsThem()
    {
        Assert.Equal(new EfficientNetBlockDef(EfficientNetBlockType.InvertedResidual, 2, 5, 2, 6, 40, 0.25, false),
            EfficientNetBlockDef.Parse("ir_r2_k5_s2_e6_c40_se0.25"));
        // A ds block's "e" is read and ignored, as timm does (B0 says e1).
        Assert.Equal(new EfficientNetBlockDef(EfficientNetBlockType.DepthwiseSeparable, 1, 3, 1, 1, 16, 0, true),
            EfficientNetBlockDef.Parse("ds_r1_k3_s1_e1_c16_noskip"));
    }

    [Fact]
    public void SpecJsonRoundTripsAndNamesBadArchDefs()
    {
        var spec = new EfficientNetSpec
        {
            ArchDef = new[] { new[] { "ds_r1_k3_s1_c8" }, new[] { "ir_r1_k3_s2_e4_c16", "ir_r2_k5_s1_e6_c16_se0.25" } },
            ChannelMultiplier = 1.3, DepthMultiplier = 1.7, ChannelDivisor = 4, StemSize = 12, FixStem = true, NumFeatures = 40,
            DropRate = 0.2, DropPathRate = 0.1, NumClasses = 3, InChans = 1, ImageSize = 48,
        };
        var back = (EfficientNetSpec)ModelSpec.FromJson(spec.ToJson());
        Assert.Equal(spec, back);
        Assert.NotEqual(spec, back with { ArchDef = new[] { new[] { "ds_r1_k3_s1_c8" } } });

        var bad = Assert.Throws<JsonException>(() => ModelSpec.FromJson("""{"family": "efficientnet", "arch_def": [["ir_r1_k3_s1_c16"]]}"""));
        Assert.Contains("arch_def[0]", bad.Message);
        Assert.Contains("ir_r1_k3_s1_c16", bad.Message);
        var mistyped = Assert.Throws<JsonException>(() => ModelSpec.FromJson("""{"family": "efficientnet", "arch_def": ["ds_r1_k3_s1_c16"]}"""));
        Assert.Contains("arch_def[0]", mistyped.Message);
        var tooManyStrides = Assert.Throws<JsonException>(() => ModelSpec.FromJson(
            """{"family": "efficientnet", "arch_def": [["ds_r1_k3_s2_c8"], ["ds_r1_k3_s2_c8"], ["ds_r1_k3_s2_c8"], ["ds_r1_k3_s2_c8"], ["ds_r1_k3_s2_c8"]]}"""));
        Assert.Contains("64-fold", tooManyStrides.Message);
    }

    [Fact]
    public void MiniPresetRunsAtSmallImagesAndGivesFeatures()
    {
        using var model = ModelRegistry.Create(Mini, numClasses: 4);
        model.eval();
        using var x = randn(2, 3, 32, 32);
        using var _ = no_grad();
        using var logits = model.call(x);
        using var features = model.ForwardPreLogits(x);
        Assert.Equal(new long[] { 2, 4 }, logits.shape);
        Assert.Equal(new long[] { 2, 128 }, features.shape);
        using var map = model.ForwardFeatures(x);
        // Four stages, three of stride 2, after the stem's 2: a 16-fold reduction.
        Assert.Equal(new long[] { 2, 128, 2, 2 }, map.shape);
    }

    [Fact]
    public void ResidualAndDepthwiseWidthsShareOneIndexSet()
    {
        // Random consistent selection: only the schema's widths and ties make tensors agree, so this checks them.
        var golden = GoldenManifest.Case(Mini);
        using var teacher = SafeTensorsFile.Open(golden.TeacherFile);
        using var student = SafeTensorsFile.Open(golden.StudentFile);
        using var result = WeightSelector.Select(teacher, student, options: new SelectionOptions { ElementSelection = ElementSelection.RandomConsistent(5) });
        var report = result.Report;

        WidthSummary WidthOf(string alias) => report.Widths.Single(w => w.Name == alias || w.Aliases.Contains(alias));
        // Stage 1's residual stream: both blocks' outputs, block 1's input and conv_pw, stage 2's first input.
        var stage1 = WidthOf("blocks.1");
        Assert.Contains("blocks.1.1.in", stage1.Aliases.Append(stage1.Name));
        Assert.Same(stage1, WidthOf("blocks.2.0.in"));
        Assert.Equal(16, stage1.StudentSize);
        // ds block: its depthwise conv runs on the stem width; its conv_pw writes the stage-0 width.
        Assert.Same(WidthOf("stem"), WidthOf("blocks.0.0.mid"));
        Assert.Same(WidthOf("blocks.0"), WidthOf("blocks.0.0.pw"));
        // ir block: expanded width shared by conv_pw, bn1, conv_dw, bn2, SE's outer axes and conv_pwl's input.
        var mid = WidthOf("blocks.2.1.mid");
        Assert.Same(mid, WidthOf("blocks.2.1.pw"));
        Assert.Equal((288L, 144L), (mid.TeacherSize, mid.StudentSize));
        Assert.Equal((12L, 6L), (WidthOf("blocks.2.1.se").TeacherSize, WidthOf("blocks.2.1.se").StudentSize));
        Assert.Same(WidthOf("blocks.3"), WidthOf("head.in"));
        Assert.Contains("blocks.2.1.mid", report.Row("blocks.2.1.conv_dw.weight").Widths);

        // The tensors themselves: conv_dw's channels are bn2's channels are SE expand's outputs.
        using var indices = tensor(mid.Indices!, ScalarType.Int64);
        using var dw = teacher.Read("blocks.2.1.conv_dw.weight");
        using var bn = teacher.Read("blocks.2.1.bn2.weight");
        using var expand = teacher.Read("blocks.2.1.se.conv_expand.bias");
        TensorAssert.Equal(dw.index_select(0, indices), result.Weights["blocks.2.1.conv_dw.weight"], "conv_dw");
        TensorAssert.Equal(bn.index_select(0, indices), result.Weights["blocks.2.1.bn2.weight"], "bn2");
        TensorAssert.Equal(expand.index_select(0, indices), result.Weights["blocks.2.1.se.conv_expand.bias"], "se.conv_expand.bias");
    }

    [Fact]
    public void B3InitializesB0WithEveryKeyKnownToTheSchema()
    {
        // B3 is deeper and wider than B0 in every stage, its stem, its head and every block's mid and SE widths.
        using var b3 = ModelRegistry.Create("efficientnet_b3");
        using var teacher = StateDict.FromModule(b3, "efficientnet_b3");
        using var b0 = ModelRegistry.Create("efficientnet_b0", numClasses: 10);

        var report = WeightSelector.SelectInto(teacher, b0);

        Assert.Equal("efficientnet", report.Family);
        Assert.Equal(7, report.Layers.Count);
        var stage3 = report.Layers.Single(l => l.Group == "blocks.3");
        Assert.Equal((5, 3), (stage3.TeacherLayers, stage3.StudentLayers));
        Assert.Equal(new[] { 0, 1, 2 }, stage3.TeacherIndices);
        foreach (var row in report.Rows.Where(r => !r.StudentKey.StartsWith("classifier.", StringComparison.Ordinal)))
        {
            Assert.NotEqual("kept student init", row.Method);
            Assert.True(row.Note is null || !row.Note.Contains("fallback"), $"{row.StudentKey}: {row.Note}");
        }
        Assert.Equal((40L, 32L), (report.Widths.Single(w => w.Name == "stem").TeacherSize, report.Widths.Single(w => w.Name == "stem").StudentSize));
        Assert.Equal((1536L, 1280L), (report.Widths.Single(w => w.Name == "features").TeacherSize, report.Widths.Single(w => w.Name == "features").StudentSize));
    }

    [Fact]
    public void TeacherStageShallowerThanTheStudentsIsAClearError()
    {
        var golden = GoldenManifest.Case(Mini);
        using var teacher = SafeTensorsFile.Open(golden.TeacherFile);
        var deep = (EfficientNetSpec)ModelSpec.FromJson(golden.StudentJson, "efficientnet") with { DepthMultiplier = 2.0 };
        using var student = deep.CreateModel();
        var e = Assert.Throws<WeightSelectionException>(() => WeightSelector.SelectInto(teacher, student));
        // The teacher's stage 1 has 3 blocks, this student's 4.
        Assert.Contains("blocks.1", e.Message);
        Assert.Contains("4", e.Message);
        Assert.Contains("3", e.Message);
    }

    [Fact]
    public void TeacherNarrowerThanTheStudentIsAClearError()
    {
        var golden = GoldenManifest.Case(Mini);
        using var teacher = SafeTensorsFile.Open(golden.TeacherFile);
        var wide = (EfficientNetSpec)ModelSpec.FromJson(golden.StudentJson, "efficientnet") with { NumFeatures = 256 };
        using var student = wide.CreateModel();
        var e = Assert.Throws<WeightSelectionException>(() => WeightSelector.SelectInto(teacher, student));
        Assert.Contains("conv_head.weight", e.Message);
        Assert.Contains("256", e.Message);
        Assert.Contains("128", e.Message);
        Assert.Contains(e.Problems, p => p.Kind == SelectionProblemKind.StudentLargerThanTeacher);
    }

    [Fact]
    public void LoadingAWrongCheckpointNamesTheKeyAndBothShapes()
    {
        var golden = GoldenManifest.Case(Mini);
        using var teacher = SafeTensorsFile.Open(golden.TeacherFile);
        using var student = ModelSpec.FromJson(golden.StudentJson, "efficientnet").CreateModel();
        var e = Assert.Throws<StateDictLoadException>(() => student.LoadStateDict(teacher));
        Assert.Contains("conv_stem.weight", e.Message);
        Assert.Contains("32", e.Message);
        Assert.Contains("16", e.Message);
    }

    [Fact]
    public void ShapeMismatchesTellTheStagesFromTheHeader()
    {
        var golden = GoldenManifest.Case(Mini);
        using var teacher = SafeTensorsFile.Open(golden.TeacherFile);
        var shapes = CheckpointShapes.Of(teacher);
        var family = ModelFamilies.Get("efficientnet");
        Assert.Empty(family.ShapeMismatches(ModelSpec.FromJson(golden.TeacherJson, "efficientnet"), shapes));
        var problems = family.ShapeMismatches(ModelSpec.FromJson(golden.StudentJson, "efficientnet"), shapes);
        Assert.Contains(problems, p => p.Contains("the stem width") && p.Contains("is 32, the spec says 16"));
        Assert.Contains(problems, p => p.Contains("the depth of stage 1 (blocks.1) is 3, the spec says 2"));
        Assert.Contains(problems, p => p.Contains("num_features"));
    }

    [Fact]
    public void FamilyIsDetectedFromTheKeys()
    {
        using var model = ModelRegistry.Create("efficientnet_b0", numClasses: 0);
        Assert.Equal("efficientnet", FamilySchemas.Detect(model.state_dict().Keys.ToList())?.Family);
        Assert.Empty(model.ClassifierKeys);
    }

    [Fact]
    public void DropPathActsInTrainModeOnResidualBlocksOnly()
    {
        var spec = (EfficientNetSpec)ModelRegistry.GetSpec(Mini) with { DropPathRate = 0.5, NumClasses = 3 };
        using var model = spec.CreateModel();
        using var x = randn(4, 3, 32, 32);
        using var _ = no_grad();
        model.eval();
        using var a = model.call(x);
        using var b = model.call(x);
        Assert.True(a.eq(b).all().item<bool>(), "eval is deterministic");
        model.train();
        var outputs = Enumerable.Range(0, 4).Select(_ => model.call(x)).ToList();
        Assert.Contains(outputs.Skip(1), o => !o.eq(outputs[0]).all().item<bool>());
        outputs.ForEach(o => o.Dispose());
    }
}

/// <summary>A few optimizer steps on a tiny EfficientNet (seeded through libtorch's global generator).</summary>
[Collection(nameof(GlobalTorchState))]
public class EfficientNetTrainingTests
{
    [Fact]
    public void TinyEfficientNetTrainingLowersTheLoss()
    {
        manual_seed(3);
        // efficientnet_mini at half width (stem 8, stages 8/8/16/16, head 32) on one batch of 16-px images, with
        // drop path on, so the residual branches, SE and BatchNorm's train mode all take part in the steps.
        var spec = (EfficientNetSpec)ModelRegistry.GetSpec("efficientnet_mini") with
        {
            ChannelMultiplier = 0.5, NumFeatures = 32, NumClasses = 4, ImageSize = 16, DropPathRate = 0.1,
        };
        using var model = spec.CreateModel();
        using var x = randn(16, 3, 16, 16);
        using var y = arange(16, ScalarType.Int64).remainder(4);
        using var optimizer = optim.Adam(model.parameters(), lr: 1e-2);
        model.train();
        var losses = new List<double>();
        for (int step = 0; step < 12; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(model.call(x), y);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }
        Assert.All(losses, l => Assert.True(double.IsFinite(l)));
        Assert.True(losses.Skip(9).Average() < losses.Take(3).Average() * 0.8,
            $"loss {string.Join(" -> ", losses.Select(l => l.ToString("F3")))}");
    }
}

using System.Text.Json;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.Swin;
using MLNet.WeightSelection.Selection;
using MLNet.WeightSelection.Tests.Training;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Models;

/// <summary>
/// The Swin family against timm facts (checked with timm at the golden commit: parameter counts, keys and shapes,
/// windows and shifts per stage), its spec JSON, selection on the golden case (patch merging's four blocks, the head
/// axis, a resampled bias table, clear errors), the checkpoint filter, loading and a few training steps.
/// </summary>
public class SwinTests
{
    const string Mini = "swin_mini";

    [Theory]
    [InlineData("swin_tiny_patch4_window7_224", 28_288_354L)]
    [InlineData("swin_small_patch4_window7_224", 49_606_258L)]
    [InlineData("swin_base_patch4_window7_224", 87_768_224L)]
    [InlineData("swin_mini", 54_844L)] // the same configuration built by timm's SwinTransformer class
    public void ParameterCountMatchesTimm(string preset, long expected)
    {
        using var model = ModelRegistry.Create(preset);
        Assert.Equal(expected, model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void TinyHasTimmsKeysShapesWindowsAndShifts()
    {
        var spec = (SwinSpec)ModelRegistry.GetSpec("swin_tiny_patch4_window7_224");
        Assert.Equal(new[] { 96, 192, 384, 768 }, Enumerable.Range(0, 4).Select(spec.StageDim));
        Assert.Equal(new[] { 56, 28, 14, 7 }, Enumerable.Range(0, 4).Select(spec.StageResolution));
        // timm's _calc_window_shift: the last stage (7 px) is one window, so its odd blocks do not shift.
        Assert.Equal(new[] { 7, 7, 7, 7 }, Enumerable.Range(0, 4).Select(spec.StageWindow));
        Assert.Equal(new[] { 3, 3, 3, 0 }, Enumerable.Range(0, 4).Select(spec.StageShift));
        Assert.Equal(InputConvention.ImageNet, spec.Input);
        Assert.Equal(0.1, spec.DropPathRate);

        using var model = spec.CreateModel();
        var sd = model.state_dict();
        Assert.Equal(173, sd.Count);
        PresetArchitectureTests.AssertShape(sd, "patch_embed.proj.weight", 96, 3, 4, 4);
        PresetArchitectureTests.AssertShape(sd, "patch_embed.norm.weight", 96);
        PresetArchitectureTests.AssertShape(sd, "layers.1.downsample.norm.weight", 384);
        PresetArchitectureTests.AssertShape(sd, "layers.1.downsample.reduction.weight", 192, 384);
        PresetArchitectureTests.AssertShape(sd, "layers.3.blocks.1.attn.relative_position_bias_table", 169, 24);
        PresetArchitectureTests.AssertShape(sd, "layers.2.blocks.5.mlp.fc1.weight", 1536, 384);
        PresetArchitectureTests.AssertShape(sd, "layers.0.blocks.1.attn.qkv.weight", 288, 96);
        PresetArchitectureTests.AssertShape(sd, "norm.weight", 768);
        PresetArchitectureTests.AssertShape(sd, "head.fc.weight", 1000, 768);
        Assert.DoesNotContain(sd.Keys, k => k.Contains("relative_position_index") || k.Contains("attn_mask"));
        Assert.DoesNotContain("layers.0.downsample.norm.weight", sd.Keys);
        Assert.Equal(new[] { "head.fc.weight", "head.fc.bias" }, model.ClassifierKeys);
        Assert.Contains("relative_position_bias_table", model.NoWeightDecay);
    }

    [Fact]
    public void RelativePositionIndexAndShiftMaskAreTimms()
    {
        // timm's get_relative_position_index(2, 2) and the mask of a 4 px map with window 2, shift 1 (window 3 of 4:
        // the bottom-right one, where the three shifted-in regions meet).
        Assert.Equal(new long[] { 4, 3, 1, 0, 5, 4, 2, 1, 7, 6, 4, 3, 8, 7, 5, 4 }, SwinWindows.RelativePositionIndex(2));
        var mask = SwinWindows.AttentionMask(4, 2, 1)!;
        Assert.Equal(4 * 16, mask.Length);
        Assert.All(mask.Take(16), v => Assert.Equal(0f, v));
        var last = mask.Skip(48).ToArray();
        Assert.Equal(new float[] { 0, -100, -100, -100, -100, 0, -100, -100, -100, -100, 0, -100, -100, -100, -100, 0 }, last);
        Assert.Null(SwinWindows.AttentionMask(4, 2, 0));
    }

    [Fact]
    public void SpecJsonRoundTripsAndNamesBadKwargs()
    {
        var spec = new SwinSpec
        {
            ImageSize = 64, PatchSize = 2, EmbedDim = 24, Depths = new[] { 2, 3, 1 }, NumHeads = new[] { 2, 4, 8 }, HeadDim = 8,
            WindowSize = 5, MlpRatio = 3, QkvBias = false, DropRate = 0.2, DropPathRate = 0.3, GlobalPool = "", NumClasses = 3, InChans = 1,
        };
        var back = (SwinSpec)ModelSpec.FromJson(spec.ToJson());
        Assert.Equal(spec, back);
        Assert.NotEqual(spec, back with { Depths = new[] { 2, 3, 2 } });
        var small = (SwinSpec)ModelSpec.FromJson(ModelRegistry.GetSpec("swin_small_patch4_window7_224").ToJson());
        Assert.Equal(new[] { 2, 2, 18, 2 }, small.Depths);
        Assert.Null(small.HeadDim);

        var heads = Assert.Throws<JsonException>(() => ModelSpec.FromJson("""{"family": "swin", "depths": [2, 2], "num_heads": [3, 6, 12]}"""));
        Assert.Contains("num_heads", heads.Message);
        var size = Assert.Throws<JsonException>(() => ModelSpec.FromJson("""{"family": "swin", "img_size": 200}"""));
        Assert.Contains("img_size", size.Message);
        Assert.Contains("multiple of 32", size.Message);
        var pool = Assert.Throws<JsonException>(() => ModelSpec.FromJson("""{"family": "swin", "global_pool": "max"}"""));
        Assert.Contains("global_pool", pool.Message);
        var divide = Assert.Throws<JsonException>(() => ModelSpec.FromJson("""{"family": "swin", "embed_dim": 100}"""));
        Assert.Contains("num_heads[0] (3) must divide the stage width 100", divide.Message);
    }

    [Fact]
    public void MiniPresetGivesMapsFeaturesAndLogitsAndRefusesOtherSizes()
    {
        using var model = ModelRegistry.Create(Mini, numClasses: 4);
        model.eval();
        using var x = randn(2, 3, 32, 32);
        using var _ = no_grad();
        using var logits = model.call(x);
        using var features = model.ForwardPreLogits(x);
        using var map = model.ForwardFeatures(x);
        Assert.Equal(new long[] { 2, 4 }, logits.shape);
        Assert.Equal(new long[] { 2, 32 }, features.shape);
        Assert.Equal(new long[] { 2, 8, 8, 32 }, map.shape); // channels last, as timm
        using var other = randn(1, 3, 40, 40);
        var e = Assert.Throws<ArgumentException>(() => model.call(other));
        Assert.Contains("img_size 32", e.Message);
        Assert.True(ModelFamilies.Get("swin").RunsOnlyAtItsImageSize);
        Assert.Equal(4, model.Spec.ImageSizeMultiple);
    }

    [Fact]
    public void PatchMergingHeadsAndResidualWidthsShareOneIndexSet()
    {
        // Random consistent selection: only the schema's widths and ties make tensors agree, so this checks them.
        var golden = GoldenManifest.Case(Mini);
        using var teacher = SafeTensorsFile.Open(golden.TeacherFile);
        using var student = SafeTensorsFile.Open(golden.StudentFile);
        using var result = WeightSelector.Select(teacher, student, options: new SelectionOptions { ElementSelection = ElementSelection.RandomConsistent(5) });
        var report = result.Report;

        WidthSummary WidthOf(string alias) => report.Widths.Single(w => w.Name == alias || w.Aliases.Contains(alias));
        var stage0 = WidthOf("layers.0");
        Assert.Equal((32L, 16L), (stage0.TeacherSize, stage0.StudentSize));
        Assert.Same(WidthOf("layers.1"), WidthOf("features"));
        Assert.Contains("4xlayers.0", report.Row("layers.1.downsample.reduction.weight").Widths);

        // The merging's norm takes stage 0's indices in each of its four blocks of 32.
        var blocks = Enumerable.Range(0, 4).SelectMany(b => stage0.Indices!.Select(i => b * 32 + i)).ToArray();
        using var indices = tensor(blocks, ScalarType.Int64);
        using var norm = teacher.Read("layers.1.downsample.norm.weight");
        TensorAssert.Equal(norm.index_select(0, indices), result.Weights["layers.1.downsample.norm.weight"], "downsample.norm");
        using var reduction = teacher.Read("layers.1.downsample.reduction.weight");
        using var stage1 = tensor(WidthOf("layers.1").Indices!, ScalarType.Int64);
        TensorAssert.Equal(reduction.index_select(0, stage1).index_select(1, indices), result.Weights["layers.1.downsample.reduction.weight"], "reduction");
        // The patch embedding writes the stream stage 0's first norm reads.
        using var proj = teacher.Read("patch_embed.proj.bias");
        using var stage0Indices = tensor(stage0.Indices!, ScalarType.Int64);
        TensorAssert.Equal(proj.index_select(0, stage0Indices), result.Weights["patch_embed.proj.bias"], "patch_embed.proj.bias");

        // The bias table keeps its rows (same window) and takes heads on its own width.
        var heads = WidthOf("layers.1.blocks.0.attn.heads");
        Assert.Equal((4L, 2L), (heads.TeacherSize, heads.StudentSize));
        using var uniform = WeightSelector.Select(teacher, student);
        Assert.Equal("uniform", uniform.Report.Row("layers.1.blocks.0.attn.relative_position_bias_table").Method);
    }

    [Fact]
    public void AnotherWindowResamplesTheBiasTable()
    {
        var golden = GoldenManifest.Case(Mini);
        using var teacher = SafeTensorsFile.Open(golden.TeacherFile);
        var spec = (SwinSpec)ModelSpec.FromJson(golden.StudentJson, "swin") with { WindowSize = 2 };
        using var student = spec.CreateModel();
        var report = WeightSelector.SelectInto(teacher, student);
        var row = report.Row("layers.0.blocks.1.attn.relative_position_bias_table");
        Assert.Equal("resampled+uniform", row.Method);
        Assert.Equal(new long[] { 9, 1 }, row.StudentShape);
        // A constant table stays constant: the resampling interpolates over the offsets.
        using var constant = full(25, 3, 0.7f);
        using var resized = SwinCheckpointFilter.ResampleBiasTable(constant, 9)!;
        Assert.Equal(new long[] { 9, 3 }, resized.shape);
        Assert.True(resized.sub(0.7f).abs().max().item<float>() < 1e-5f);
        student.eval();
        using var x = randn(1, 3, 32, 32);
        using var _ = no_grad();
        using var logits = student.call(x);
        Assert.True(logits.isfinite().all().item<bool>());
    }

    [Fact]
    public void TeacherStageShallowerThanTheStudentsIsAClearError()
    {
        var golden = GoldenManifest.Case(Mini);
        using var teacher = SafeTensorsFile.Open(golden.TeacherFile);
        var deep = (SwinSpec)ModelSpec.FromJson(golden.StudentJson, "swin") with { Depths = new[] { 4, 1 } };
        using var student = deep.CreateModel();
        var e = Assert.Throws<WeightSelectionException>(() => WeightSelector.SelectInto(teacher, student));
        // The teacher's stage 0 has 3 blocks, this student's 4.
        Assert.Contains("layers.0.blocks", e.Message);
        Assert.Contains("4", e.Message);
        Assert.Contains("3", e.Message);
    }

    [Fact]
    public void TeacherNarrowerThanTheStudentIsAClearError()
    {
        var golden = GoldenManifest.Case(Mini);
        using var teacher = SafeTensorsFile.Open(golden.TeacherFile);
        var wide = (SwinSpec)ModelSpec.FromJson(golden.StudentJson, "swin") with { EmbedDim = 64, NumHeads = new[] { 2, 4 } };
        using var student = wide.CreateModel();
        var e = Assert.Throws<WeightSelectionException>(() => WeightSelector.SelectInto(teacher, student));
        Assert.Contains("patch_embed.proj.weight", e.Message);
        Assert.Contains("64", e.Message);
        Assert.Contains("32", e.Message);
        Assert.Contains(e.Problems, p => p.Kind == SelectionProblemKind.StudentLargerThanTeacher);
        var moreHeads = (SwinSpec)ModelSpec.FromJson(golden.StudentJson, "swin") with { NumHeads = new[] { 4, 8 } };
        using var headed = moreHeads.CreateModel();
        var h = Assert.Throws<WeightSelectionException>(() => WeightSelector.SelectInto(teacher, headed));
        Assert.Contains("relative_position_bias_table", h.Message);
    }

    [Fact]
    public void LoadingAWrongCheckpointNamesTheKeyAndBothShapes()
    {
        var golden = GoldenManifest.Case(Mini);
        using var teacher = SafeTensorsFile.Open(golden.TeacherFile);
        using var student = ModelSpec.FromJson(golden.StudentJson, "swin").CreateModel();
        var e = Assert.Throws<StateDictLoadException>(() => student.LoadStateDict(teacher));
        Assert.Contains("patch_embed.proj.weight", e.Message);
        Assert.Contains("32", e.Message);
        Assert.Contains("16", e.Message);
    }

    [Fact]
    public void TheFilterReadsMicrosoftsLayoutAndAnotherWindow()
    {
        // Microsoft's release: downsample at the end of stages 0..2, the classifier as "head", buffers saved.
        var spec = (SwinSpec)ModelRegistry.GetSpec(Mini) with { NumClasses = 3, DropPathRate = 0 };
        using var reference = spec.CreateModel();
        using var original = new StateDict("microsoft");
        foreach (var (key, value) in reference.state_dict())
        {
            string k = key.Replace("layers.1.downsample", "layers.0.downsample", StringComparison.Ordinal)
                .Replace("head.fc.", "head.", StringComparison.Ordinal);
            original.Add(k, value.clone());
        }
        original.Add("layers.0.blocks.0.attn.relative_position_index", zeros(9, 9, ScalarType.Int64));
        original.Add("layers.0.blocks.1.attn_mask", zeros(36, 9, 9));
        using var loaded = spec.CreateModel();
        var result = loaded.LoadStateDict(original);
        Assert.Empty(result.MissingKeys);
        TensorAssert.Equal(reference.state_dict()["layers.1.downsample.reduction.weight"], loaded.state_dict()["layers.1.downsample.reduction.weight"], "moved downsample");

        // A table made for window 3 loads into a window-2 model, resampled.
        var small = spec with { WindowSize = 2 };
        using var windowed = small.CreateModel();
        using var state = StateDict.FromModule(reference, "window 3");
        Assert.Empty(windowed.LoadStateDict(state).MissingKeys);
        Assert.Equal(new long[] { 9, 1 }, windowed.state_dict()["layers.0.blocks.0.attn.relative_position_bias_table"].shape);
    }

    [Fact]
    public void ShapeMismatchesTellTheStagesFromTheHeader()
    {
        var golden = GoldenManifest.Case(Mini);
        using var teacher = SafeTensorsFile.Open(golden.TeacherFile);
        var shapes = CheckpointShapes.Of(teacher);
        var family = ModelFamilies.Get("swin");
        Assert.Empty(family.ShapeMismatches(ModelSpec.FromJson(golden.TeacherJson, "swin"), shapes));
        var problems = family.ShapeMismatches(ModelSpec.FromJson(golden.StudentJson, "swin"), shapes);
        Assert.Contains(problems, p => p.Contains("embed_dim") && p.Contains("is 32, the spec says 16"));
        Assert.Contains(problems, p => p.Contains("depths[0] (layers.0.blocks) is 3, the spec says 2"));
        Assert.Contains(problems, p => p.Contains("num_heads[1]") && p.Contains("is 4, the spec says 2"));
        var window2 = family.ShapeMismatches((SwinSpec)ModelSpec.FromJson(golden.TeacherJson, "swin") with { WindowSize = 2 }, shapes);
        Assert.Contains(window2, p => p.Contains("window_size 2 allows at most 9") && p.Contains("is 25"));
    }

    [Theory]
    [InlineData(64, 64)]   // stage 2's map is 4 px: its tables are 7×7 offsets, one window of 4
    [InlineData(224, null)] // no stage clamped: the tables fit the preset's own size
    public void ACheckpointsClampedWindowsTellItsImageSize(int built, int? told)
    {
        var preset = ModelRegistry.GetSpec("swin_tiny_patch4_window7_224");
        using var model = preset.WithImageSize(built).CreateModel();
        using var state = StateDict.FromModule(model, "swin_tiny");
        var shapes = CheckpointShapes.Of(state);
        Assert.True(ModelFamilies.Get("swin").TryImageSize(preset, shapes, out int? size));
        Assert.Equal(told, size);
        var match = Assert.Single(PresetMatcher.Find(shapes, "swin"));
        Assert.Equal("swin_tiny_patch4_window7_224", match.Preset);
        Assert.Equal(built, match.Spec.ImageSize);
    }

    [Fact]
    public void FamilyIsDetectedFromTheKeys()
    {
        using var model = ModelRegistry.Create(Mini, numClasses: 0);
        Assert.Equal("swin", FamilySchemas.Detect(model.state_dict().Keys.ToList())?.Family);
        Assert.Empty(model.ClassifierKeys);
        Assert.Equal(1, ModelFamilies.Get("swin").AttentionHeads(ModelRegistry.GetSpec(Mini)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WholeHeadsTakeEachStagesCountsFromTheBiasTablesAndTheTablesFollowTheHeads(bool l1)
    {
        // Teacher heads (2, 4), student (1, 2), head_dim 16 in both: whole heads keep every dim of the chosen heads.
        // The options' counts are ignored: each block's come from its table (here deliberately wrong ones).
        var golden = GoldenManifest.Case(Mini);
        using var teacher = SafeTensorsFile.Open(golden.TeacherFile);
        using var student = SafeTensorsFile.Open(golden.StudentFile);
        var options = new SelectionOptions
        {
            WholeHeads = true, TeacherHeads = 7, StudentHeads = 5,
            ElementSelection = l1 ? ElementSelection.L1 : ElementSelection.Uniform,
        };
        using var result = WeightSelector.Select(teacher, student, options: options);
        var report = result.Report;
        Assert.True(report.WholeHeads);
        WidthSummary WidthOf(string alias) => report.Widths.Single(w => w.Name == alias || w.Aliases.Contains(alias));
        foreach (var (block, teacherHeads, studentHeads) in new[] { ("layers.0.blocks.1", 2, 1), ("layers.1.blocks.0", 4, 2) })
        {
            var inner = WidthOf(block + ".attn.inner");
            var heads = WidthOf(block + ".attn.heads");
            Assert.Equal((teacherHeads, studentHeads), ((int)heads.TeacherSize, (int)heads.StudentSize));
            // Whole heads of 16: the inner indices are the chosen heads' 16 dims each, in the heads' order.
            Assert.Equal(heads.Indices!.SelectMany(h => Enumerable.Range(0, 16).Select(d => h * 16 + d)), inner.Indices!);
            if (!l1) Assert.Equal(ElementSelection.UniformIndices(teacherHeads, studentHeads), heads.Indices);
            using var table = teacher.Read(block + ".attn.relative_position_bias_table");
            using var chosen = tensor(heads.Indices!, ScalarType.Int64);
            TensorAssert.Equal(table.index_select(1, chosen), result.Weights[block + ".attn.relative_position_bias_table"], block);
        }
    }

    [Fact]
    public void DropPathActsInTrainModeOnly()
    {
        var spec = (SwinSpec)ModelRegistry.GetSpec(Mini) with { DropPathRate = 0.5, NumClasses = 3 };
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

/// <summary>A few optimizer steps on a tiny Swin Transformer (seeded through libtorch's global generator).</summary>
[Collection(nameof(GlobalTorchState))]
public class SwinTrainingTests
{
    [Fact]
    public void TinySwinTrainingLowersTheLoss()
    {
        manual_seed(3);
        // swin_mini at 16 px (an 8 px map in stage 0, windows of 3 padded to 9, shifted blocks) with drop path on.
        var spec = (SwinSpec)ModelRegistry.GetSpec("swin_mini") with { NumClasses = 4, ImageSize = 16, DropPathRate = 0.1 };
        using var model = spec.CreateModel();
        using var x = randn(16, 3, 16, 16);
        using var y = arange(16, ScalarType.Int64).remainder(4);
        using var optimizer = optim.Adam(model.parameters(), lr: 3e-3);
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

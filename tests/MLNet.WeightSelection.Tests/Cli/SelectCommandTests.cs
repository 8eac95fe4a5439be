using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Selection;
using MLNet.WeightSelection.Tests.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.Cli;

/// <summary>
/// <c>ws select</c> in-process on the timm-made golden cases: the written state dict is the golden student bit for bit
/// (every key but the classifier), the classifier is left out unless asked for, and the report is written alongside.
/// Seeded student initialization reads libtorch's global generator, hence the non-parallel collection.
/// </summary>
[Collection(nameof(GlobalTorchState))]
public class SelectCommandTests
{
    [Theory]
    [MemberData(nameof(GoldenCases.Names), MemberType = typeof(GoldenCases))]
    public void SelectReproducesTheGoldenStudentAndLeavesTheClassifierOut(string name)
    {
        var golden = GoldenCases.Get(name);
        string dir = TestPaths.NewTempDirectory();
        string output = Path.Combine(dir, "student.safetensors");
        string report = Path.Combine(dir, "report.json");

        var run = Ws.Run("select", "--teacher", golden.Teacher, "--teacher-spec", golden.TeacherSpec,
            "--student-spec", golden.StudentSpec, "--out", output, "--report", report);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("", run.Error);
        using var expected = SafeTensorsFile.Open(golden.Student);
        using var actual = SafeTensorsFile.Open(output);
        var nonClassifier = expected.Keys.Where(k => !golden.ClassifierKeys.Contains(k)).ToList();
        Assert.Equal(nonClassifier.OrderBy(k => k, StringComparer.Ordinal), actual.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var key in nonClassifier) TensorFiles.AssertIdentical(expected, actual, key);
        Assert.Equal("left out", actual.Metadata["mlnet_ws.classifier"]);
        Assert.Equal("pt", actual.Metadata["format"]);

        var parsed = SelectionReport.FromJson(File.ReadAllText(report));
        Assert.Equal(golden.Family, parsed.Family);
        Assert.Equal(expected.Keys.Count, parsed.Rows.Count);
        Assert.All(golden.ClassifierKeys, k => Assert.Null(parsed.Row(k).TeacherKey));
        foreach (var key in golden.ClassifierKeys) Assert.Contains(key, run.Out);
        Assert.Contains("strict=False", run.Out);
        Assert.Equal(new[] { "report.json", "student.safetensors" }, Directory.GetFiles(dir).Select(Path.GetFileName).Order());
    }

    [Theory]
    [MemberData(nameof(GoldenCases.Names), MemberType = typeof(GoldenCases))]
    public void WithClassifierStoresTheStudentsOwnSeededInitialization(string name)
    {
        var golden = GoldenCases.Get(name);
        string dir = TestPaths.NewTempDirectory();
        string[] Args(string file, int seed) => new[]
        {
            "select", "--teacher", golden.Teacher, "--student-spec", golden.StudentSpec, "--out", Path.Combine(dir, file),
            "--with-classifier", "--seed", seed.ToString(),
        };

        Assert.Equal(0, Ws.Run(Args("a.safetensors", 7)).ExitCode);
        Assert.Equal(0, Ws.Run(Args("b.safetensors", 7)).ExitCode);
        Assert.Equal(0, Ws.Run(Args("c.safetensors", 8)).ExitCode);

        using var expected = SafeTensorsFile.Open(golden.Student);
        using var a = SafeTensorsFile.Open(Path.Combine(dir, "a.safetensors"));
        using var b = SafeTensorsFile.Open(Path.Combine(dir, "b.safetensors"));
        using var c = SafeTensorsFile.Open(Path.Combine(dir, "c.safetensors"));
        Assert.Equal(expected.Keys.OrderBy(k => k, StringComparer.Ordinal), a.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var key in expected.Keys.Except(golden.ClassifierKeys)) TensorFiles.AssertIdentical(expected, a, key);
        var weight = golden.ClassifierKeys.Single(k => k.EndsWith(".weight"));
        Assert.Equal(expected.GetInfo(weight).Shape, a.GetInfo(weight).Shape);
        Assert.Equal(TensorFiles.Bytes(a, weight), TensorFiles.Bytes(b, weight));
        using var w = a.Read(weight);
        Assert.True(w.abs().sum().item<float>() > 0, "the classifier weight is all zeros");
        Assert.NotEqual(TensorFiles.Bytes(a, weight), TensorFiles.Bytes(c, weight));
        Assert.StartsWith("student init", a.Metadata["mlnet_ws.classifier"]);
    }

    [Fact]
    public void LayerMapPicksTheNamedTeacherBlocksOfOneStage()
    {
        var golden = GoldenCases.Get("convnext_t_to_f_mini");
        using var tmp = new TempFolder();
        string output = tmp.File("s.safetensors");

        // Stage 2: 3 teacher blocks, 2 student blocks; the other stages follow --layers (first-n).
        var run = Ws.Run("select", "--teacher", golden.Teacher, "--student-spec", golden.StudentSpec, "--out", output,
            "--layer-map", "stages.2.blocks=2,0");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Layers: explicit(stages.2.blocks: 2,0; otherwise first-n)", run.Out);
        using var teacher = SafeTensorsFile.Open(golden.Teacher);
        using var student = SafeTensorsFile.Open(output);
        using var got = student.Read("stages.2.blocks.0.conv_dw.weight");
        // Student block 0 is teacher block 2, of which uniform 64 -> 32 channels keeps every other one.
        using var teacherBlock = teacher.Read("stages.2.blocks.2.conv_dw.weight");
        using var everyOther = teacherBlock.index_select(0, TorchSharp.torch.arange(0, 64, 2));
        Assert.Equal(everyOther.contiguous().bytes.ToArray(), got.contiguous().bytes.ToArray());
    }

    [Fact]
    public void OtherMethodsAreHonouredAndReported()
    {
        var golden = GoldenCases.Get("convnext_t_to_f_mini");
        string dir = TestPaths.NewTempDirectory();
        string output = Path.Combine(dir, "s.safetensors");

        var run = Ws.Run("select", "--teacher", golden.Teacher, "--student-spec", golden.StudentSpec, "--out", output,
            "--layers", "last", "--elements", "consecutive");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Layers: last; elements: consecutive", run.Out);
        using var teacher = SafeTensorsFile.Open(golden.Teacher);
        using var student = SafeTensorsFile.Open(output);
        // Stage 2 has 3 teacher blocks and 2 student blocks: "last" maps student block 0 to teacher block 1, and
        // consecutive keeps the first 32 of 64 channels.
        using var want = teacher.Read("stages.2.blocks.1.conv_dw.weight").narrow(0, 0, 32);
        using var got = student.Read("stages.2.blocks.0.conv_dw.weight");
        Assert.Equal(want.contiguous().bytes.ToArray(), got.contiguous().bytes.ToArray());
    }

    [Fact]
    public void TheStudentInheritsTheTeachersInputConvention()
    {
        var golden = GoldenCases.Get("resnet_basic_mini");
        string teacherSpec = golden.TeacherSpec.TrimEnd('}') + ", \"pretrained_cfg\": {\"mean\": [0.25, 0.5, 0.75], \"std\": [0.5, 0.5, 0.5]}}";
        string output = Path.Combine(TestPaths.NewTempDirectory(), "s.safetensors");

        var run = Ws.Run("select", "--teacher", golden.Teacher, "--teacher-spec", teacherSpec, "--student-spec", golden.StudentSpec, "--out", output);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("mean [0.25, 0.5, 0.75], std [0.5, 0.5, 0.5]", run.Out);
        using var file = SafeTensorsFile.Open(output);
        var spec = ModelSpec.FromJson(file.Metadata["mlnet_ws.student_spec"]);
        Assert.Equal(new[] { 0.25f, 0.5f, 0.75f }, spec.Input.Mean);
        Assert.Equal(new[] { 8, 16, 32, 64 }, Assert.IsType<ResNetSpec>(spec).Channels);
    }

    [Fact]
    public void ATeacherSavedWithDataParallelPrefixesLoadsThroughTheCheckpointFilter()
    {
        var golden = GoldenCases.Get("resnet_basic_mini");
        string dir = TestPaths.NewTempDirectory();
        string prefixed = Path.Combine(dir, "ddp_teacher.safetensors");
        using (var teacher = SafeTensorsFile.Open(golden.Teacher))
            SafeTensorsWriter.Save(prefixed, teacher.Keys.Select(k => new KeyValuePair<string, TorchSharp.torch.Tensor>("module." + k, teacher.Read(k))).ToList());
        string output = Path.Combine(dir, "student.safetensors");

        var run = Ws.Run("select", "--teacher", prefixed, "--teacher-spec", golden.TeacherSpec, "--student-spec", golden.StudentSpec, "--out", output);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("checkpoint filter", run.Out);
        using var expected = SafeTensorsFile.Open(golden.Student);
        using var actual = SafeTensorsFile.Open(output);
        foreach (var key in expected.Keys.Except(golden.ClassifierKeys)) TensorFiles.AssertIdentical(expected, actual, key);

        var withoutSpec = Ws.Run("select", "--teacher", prefixed, "--student-spec", golden.StudentSpec, "--out", Path.Combine(dir, "x.safetensors"));
        Assert.Equal(1, withoutSpec.ExitCode);
        Assert.Contains("--teacher-spec", withoutSpec.Error);
    }

    [Fact]
    public void A_prefixed_preset_teacher_without_a_spec_is_told_from_its_shapes_and_loads_through_the_filter()
    {
        string dir = TestPaths.NewTempDirectory();
        string prefixed = Path.Combine(dir, "ddp_resnet18_half.safetensors");
        TorchSharp.torch.manual_seed(5);
        using (var teacher = ModelRegistry.Create("resnet18_half"))
            SafeTensorsWriter.Save(prefixed, teacher.state_dict().Select(kv => KeyValuePair.Create("module." + kv.Key, kv.Value)).ToList());
        string output = Path.Combine(dir, "student.safetensors");
        const string student = """{"family": "resnet", "block": "basic", "layers": [1, 1, 1, 1], "channels": [8, 16, 32, 64], "stem_width": 8, "plain_stem_width": 8}""";

        var run = Ws.Run("select", "--teacher", prefixed, "--student-spec", student, "--out", output);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("checkpoint filter", run.Out);
        using var written = SafeTensorsFile.Open(output);
        Assert.Equal(new long[] { 8, 3, 7, 7 }, written.GetInfo("conv1.weight").Shape);
    }

    [Fact]
    public void ATeacherSpecThatDoesNotFitTheCheckpointIsAOneLineError()
    {
        var golden = GoldenCases.Get("vit_s_to_t_mini");
        string dir = TestPaths.NewTempDirectory();

        var run = Ws.Run("select", "--teacher", golden.Teacher, "--teacher-spec", golden.StudentSpec, "--student-spec", golden.StudentSpec,
            "--out", Path.Combine(dir, "s.safetensors"));

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("does not fit --teacher-spec: embed_dim (patch_embed.proj.weight axis 0) is 64, the spec says 32", line);
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    [Fact]
    public void StudentLargerThanTeacherFailsWithOneLineAndWritesNothing()
    {
        var golden = GoldenCases.Get("vit_s_to_t_mini");
        string dir = TestPaths.NewTempDirectory();
        string output = Path.Combine(dir, "out.safetensors");

        // The golden student as teacher, the golden teacher's architecture as student.
        var run = Ws.Run("select", "--teacher", golden.Student, "--student-spec", golden.TeacherSpec, "--out", output,
            "--report", Path.Combine(dir, "report.json"));

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("", run.Out);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("ws select: error:", line);
        Assert.Contains("StudentLargerThanTeacher", line);
        Assert.DoesNotContain("   at ", run.Error);
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    [Fact]
    public void MissingTeacherFileFailsWithOneLine()
    {
        string dir = TestPaths.NewTempDirectory();
        string missing = Path.Combine(dir, "nope.safetensors");
        var run = Ws.Run("select", "--teacher", missing, "--student-spec", "resnet10", "--out", Path.Combine(dir, "s.safetensors"));

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(missing, line);
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    [Theory]
    [InlineData("{\"family\": \"vit\", \"embed_dim\": ", "not valid JSON")]
    [InlineData("{\"family\": \"vit\", \"embed_dimm\": 32}", "embed_dimm")]
    [InlineData("{\"family\": \"mlp\"}", "family")]
    [InlineData("resnet19", "resnet18")]
    [InlineData("missing-spec.json", "No model spec file")]
    public void BadStudentSpecFailsWithOneLineNamingTheProblem(string spec, string expected)
    {
        var golden = GoldenCases.Get("resnet_basic_mini");
        string dir = TestPaths.NewTempDirectory();
        var run = Ws.Run("select", "--teacher", golden.Teacher, "--student-spec", spec, "--out", Path.Combine(dir, "s.safetensors"));

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("ws select: error: --student-spec:", line);
        Assert.Contains(expected, line);
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    [Fact]
    public void FamilyMismatchAndMissingRequiredOptionsAreErrors()
    {
        var golden = GoldenCases.Get("resnet_basic_mini");
        string dir = TestPaths.NewTempDirectory();
        var mismatch = Ws.Run("select", "--teacher", golden.Teacher, "--student-spec", "vit_tiny_patch16_224", "--out", Path.Combine(dir, "s.safetensors"));
        Assert.Equal(1, mismatch.ExitCode);
        Assert.Contains("resnet", mismatch.Error);
        Assert.Contains("vit", mismatch.Error);

        var usage = Ws.Run("select", "--teacher", golden.Teacher);
        Assert.Equal(2, usage.ExitCode);
        Assert.Contains("--student-spec", usage.Error);
        Assert.Contains("--out", usage.Error);

        var badMethod = Ws.Run("select", "--teacher", golden.Teacher, "--student-spec", golden.StudentSpec, "--out", Path.Combine(dir, "s.safetensors"), "--elements", "best");
        Assert.Equal(2, badMethod.ExitCode);
        Assert.Contains("best", badMethod.Error);
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }
}

using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Models;

/// <summary>
/// Every golden case: the family built from the case's timm configuration, loaded strictly with the timm-made state
/// dict, gives timm's logits on the same input (eval mode).
/// </summary>
public class GoldenParityTests
{
    [Theory]
    [MemberData(nameof(GoldenManifest.CaseNames), MemberType = typeof(GoldenManifest))]
    public void TeacherReproducesTimmLogits(string caseName)
    {
        var c = GoldenManifest.Case(caseName);
        AssertLogits(c, c.TeacherJson, c.TeacherFile, "teacher_logits");
    }

    [Theory]
    [MemberData(nameof(GoldenManifest.CaseNames), MemberType = typeof(GoldenManifest))]
    public void StudentReproducesTimmLogits(string caseName)
    {
        var c = GoldenManifest.Case(caseName);
        AssertLogits(c, c.StudentJson, c.StudentFile, "student_logits");
    }

    [Theory]
    [MemberData(nameof(GoldenManifest.CaseNames), MemberType = typeof(GoldenManifest))]
    public void StateDictKeysShapesAndClassifierKeysMatchTimm(string caseName)
    {
        var c = GoldenManifest.Case(caseName);
        foreach (var (json, file) in new[] { (c.TeacherJson, c.TeacherFile), (c.StudentJson, c.StudentFile) })
        {
            using var model = ModelSpec.FromJson(json, c.Family).CreateModel();
            using var source = SafeTensorsFile.Open(file);
            var ours = model.state_dict();
            Assert.Equal(source.Keys.OrderBy(k => k, StringComparer.Ordinal), ours.Keys.OrderBy(k => k, StringComparer.Ordinal));
            foreach (var key in source.Keys)
            {
                var info = source.GetInfo(key);
                Assert.True(info.Shape.SequenceEqual(ours[key].shape), $"{file}: {key} is [{string.Join(", ", info.Shape)}] in timm, [{string.Join(", ", ours[key].shape)}] here.");
                Assert.True(info.DType == ours[key].dtype, $"{file}: {key} is {info.DType} in timm, {ours[key].dtype} here.");
            }
            Assert.Equal(c.ClassifierKeys, model.ClassifierKeys);
        }
    }

    static void AssertLogits(GoldenCase c, string configJson, string stateFile, string logitsKey)
    {
        var spec = ModelSpec.FromJson(configJson, c.Family);
        using var model = spec.CreateModel();
        using (var source = SafeTensorsFile.Open(stateFile))
        {
            var result = model.LoadStateDict(source);
            Assert.Empty(result.MissingKeys);
            Assert.Empty(result.UnexpectedKeys);
        }
        model.eval();
        using var io = SafeTensorsFile.Open(c.IoFile);
        using var x = io.Read("x");
        using var expected = io.Read(logitsKey);
        using var _ = no_grad();
        using var logits = model.call(x);
        TensorAssert.Close(expected, logits, GoldenManifest.Rtol, GoldenManifest.Atol, $"{c.Name} {logitsKey}");
    }
}

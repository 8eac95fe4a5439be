using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Selection;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Selection;

/// <summary>timm-made golden cases: uniform element selection with first-N layers reproduces CASE.student bit for bit.</summary>
public class GoldenParityTests
{
    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in GoldenCases.Cases()) data.Add(c.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void UniformFirstNReproducesTheGoldenStudent(string name)
    {
        var golden = GoldenCases.Cases().Single(c => c.Name == name);
        using var teacher = SafeTensorsFile.Open(golden.Teacher);
        using var expected = SafeTensorsFile.Open(golden.Student);

        using var result = WeightSelector.Select(teacher, expected);

        Assert.Equal(golden.Family, result.Report.Family);
        Assert.Equal(expected.Keys, result.Weights.Keys);
        foreach (var key in expected.Keys)
        {
            using var want = expected.Read(key);
            TensorAssert.Identical(want, result.Weights[key], $"{name}: '{key}' ({result.Report.Row(key).Method})");
        }
        foreach (var key in golden.ClassifierKeys)
            Assert.Equal("kept student init", result.Report.Row(key).Method);
        Assert.All(result.Report.Rows.Where(r => !golden.ClassifierKeys.Contains(r.StudentKey)),
            r => Assert.NotEqual("kept student init", r.Method));
        foreach (var key in expected.Keys.Where(k => k.EndsWith("num_batches_tracked")))
        {
            using var copied = teacher.Read(key);
            Assert.Equal(copied.item<long>(), result.Weights[key].item<long>());
        }
    }

    [Fact]
    public void GoldenResNetBatchNormStatisticsAndStemAreSelected()
    {
        var golden = GoldenCases.Cases().Single(c => c.Family == "resnet");
        using var teacher = SafeTensorsFile.Open(golden.Teacher);
        using var student = SafeTensorsFile.Open(golden.Student);
        using var result = WeightSelector.Select(teacher, student);

        // Stem 64 -> 64 is an exact copy; layer1.0's 16 -> 8 running statistics take every second channel.
        Assert.Equal("copy", result.Report.Row("bn1.running_var").Method);
        using var every2 = arange(0, 16, 2, ScalarType.Int64);
        using var runningVar = teacher.Read("layer1.0.bn1.running_var");
        TensorAssert.Identical(runningVar.index_select(0, every2), result.Weights["layer1.0.bn1.running_var"], "running_var");
    }
}

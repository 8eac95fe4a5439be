using MLNet.WeightSelection.Selection;
using Xunit;

namespace MLNet.WeightSelection.Tests.Selection;

public class ReportTests
{
    [Fact]
    public void TheTableHasARowPerStudentKeyAndSaysWhy()
    {
        using var teacher = TestModels.Vit(new VitSize(8, 2, 8, 16), TestModels.Random(1));
        using var student = TestModels.Vit(new VitSize(4, 1, 4, 8), TestModels.Random(2));
        using var result = WeightSelector.Select(teacher, student);

        var lines = result.Report.Format().Split('\n');
        foreach (var key in student.Keys)
            Assert.Single(lines, l => l.StartsWith(key + " "));
        var head = result.Report.Row("head.weight");
        Assert.Equal("kept student init", head.Method);
        Assert.Null(head.TeacherKey);
        Assert.Contains("classifier", head.Note);
        var qkv = result.Report.Row("blocks.0.attn.qkv.weight");
        Assert.Equal(new long[] { 24, 8 }, qkv.TeacherShape);
        Assert.Equal(new long[] { 12, 4 }, qkv.StudentShape);
        Assert.Equal("[3xblocks.0.attn.inner, embed]", qkv.Widths);
        Assert.Contains(lines, l => l.StartsWith("blocks.0.attn.qkv.weight ") && l.Contains("[24, 8] -> [12, 4]") && l.Contains("uniform"));
        Assert.Equal(result.Report.ToString(), result.Report.Format());

        // Columns line up: every table row starts its teacher-key column at the same offset.
        var table = lines.SkipWhile(l => !l.StartsWith("student key")).Where(l => l.Length > 0).ToArray();
        int column = table[0].IndexOf("teacher key", StringComparison.Ordinal);
        Assert.All(table.Skip(1), l => Assert.Equal(' ', l[column - 1]));
    }

    [Fact]
    public void JsonRoundTrips()
    {
        using var teacher = TestModels.ResNet(false, new[] { 2, 2, 2, 2 }, new[] { 8, 16, 32, 64 }, 16, TestModels.Random(1));
        using var student = TestModels.ResNet(false, new[] { 1, 1, 1, 1 }, new[] { 4, 8, 16, 32 }, 8, TestModels.Random(2));
        using var result = WeightSelector.Select(teacher, student);

        string json = result.Report.ToJson();
        var back = SelectionReport.FromJson(json);

        Assert.Equal(json, back.ToJson());
        Assert.Equal(result.Report.Rows.Count, back.Rows.Count);
        Assert.Equal(result.Report.Format(), back.Format());
        var row = back.Row("layer1.0.conv1.weight");
        Assert.Equal(new long[] { 8, 16, 3, 3 }, row.TeacherShape);
        Assert.Equal(new long[] { 4, 8, 3, 3 }, row.StudentShape);
        Assert.Equal(result.Report.Widths.Single(w => w.Name == "stem").Indices, back.Widths.Single(w => w.Name == "stem").Indices);
        Assert.Equal(new[] { 0 }, back.Layers.Single(l => l.Group == "layer2").TeacherIndices);
        Assert.Contains("\"studentKey\": \"layer1.0.conv1.weight\"", json);
    }

    [Fact]
    public void InvalidJsonIsRejected() =>
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => SelectionReport.FromJson("null"));
}

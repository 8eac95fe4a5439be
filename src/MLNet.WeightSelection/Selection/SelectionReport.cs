using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MLNet.WeightSelection.Selection;

/// <summary>How one student tensor was filled.</summary>
/// <param name="StudentKey">The student's key.</param>
/// <param name="TeacherKey">The teacher key it came from; null when it kept the student's own initialization.</param>
/// <param name="TeacherShape">The teacher tensor's shape; null when kept.</param>
/// <param name="StudentShape">The student tensor's shape.</param>
/// <param name="Method">How: <c>uniform</c>, <c>copy</c>, <c>per-axis fallback (uniform)</c>, <c>resampled+uniform</c>,
/// <c>kept student init</c>, …</param>
/// <param name="Widths">What each teacher axis was tied to (<c>[3xblocks.0.attn.inner, embed]</c>).</param>
/// <param name="Note">Why, when it is not plain selection.</param>
public sealed record SelectionReportRow(string StudentKey, string? TeacherKey, long[]? TeacherShape, long[] StudentShape,
    string Method, string Widths, string? Note);

/// <summary>One width: its sizes and the teacher indices every tensor tied to it uses.</summary>
/// <param name="Name">The width's name (<c>embed</c>, <c>stages.2</c>, <c>blocks.3.mlp.hidden</c>).</param>
/// <param name="Aliases">Other names tied to it.</param>
/// <param name="TeacherSize">Size in the teacher.</param>
/// <param name="StudentSize">Size in the student.</param>
/// <param name="Indices">The teacher indices kept, or null when each axis drew its own (inconsistent methods).</param>
/// <param name="Tensors">How many tensor axes are tied to it.</param>
public sealed record WidthSummary(string Name, string[] Aliases, long TeacherSize, long StudentSize, long[]? Indices, int Tensors);

/// <summary>
/// What a weight selection did: the layer map of each group, every width with its indices, and one row per student
/// tensor. Prints as an aligned table (<see cref="Format"/>) and round-trips through JSON.
/// </summary>
/// <param name="Family">The schema's family.</param>
/// <param name="Teacher">Where the teacher came from.</param>
/// <param name="LayerSelection">The layer selection used.</param>
/// <param name="ElementSelection">The element selection used.</param>
/// <param name="WholeHeads">True when attention widths were selected as whole heads.</param>
/// <param name="Layers">The teacher layers each student layer took, per layer group.</param>
/// <param name="Widths">Every width.</param>
/// <param name="Rows">One row per student tensor, in the student's order.</param>
public sealed record SelectionReport(string Family, string Teacher, string LayerSelection, string ElementSelection,
    bool WholeHeads, IReadOnlyList<LayerMap> Layers, IReadOnlyList<WidthSummary> Widths, IReadOnlyList<SelectionReportRow> Rows)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>The row of <paramref name="studentKey"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such student key.</exception>
    public SelectionReportRow Row(string studentKey) =>
        Rows.FirstOrDefault(r => r.StudentKey == studentKey) ?? throw new KeyNotFoundException($"The report has no row for '{studentKey}'.");

    /// <summary>The report as JSON (camelCase, indented).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a report written by <see cref="ToJson"/>.</summary>
    /// <exception cref="JsonException">The text is not a selection report.</exception>
    public static SelectionReport FromJson(string json) =>
        JsonSerializer.Deserialize<SelectionReport>(json, Json) ?? throw new JsonException("The JSON holds no selection report.");

    /// <summary>A summary followed by an aligned table with one row per student tensor.</summary>
    public string Format()
    {
        var text = new StringBuilder();
        text.Append($"Weight selection ({Family}) from {Teacher}: layers {LayerSelection}, elements {ElementSelection}")
            .AppendLine(WholeHeads ? ", whole heads" : "");
        foreach (var layer in Layers)
            text.AppendLine($"  layers {layer.Group}: {layer.TeacherLayers} -> {layer.StudentLayers}, teacher [{string.Join(", ", layer.TeacherIndices)}]");
        foreach (var width in Widths)
            text.AppendLine($"  width {width.Name}{(width.Aliases.Length > 0 ? $" (= {string.Join(", ", width.Aliases)})" : "")}: "
                + $"{width.TeacherSize} -> {width.StudentSize}, {width.Tensors} tensor axes");

        var header = new[] { "student key", "teacher key", "teacher shape -> student shape", "method", "widths", "note" };
        var cells = Rows.Select(r => new[]
        {
            r.StudentKey, r.TeacherKey ?? "-",
            r.TeacherShape is null ? Shape(r.StudentShape) : $"{Shape(r.TeacherShape)} -> {Shape(r.StudentShape)}",
            r.Method, r.Widths, r.Note ?? "",
        }).Prepend(header).ToList();
        var size = Enumerable.Range(0, header.Length).Select(c => cells.Max(row => row[c].Length)).ToArray();
        foreach (var row in cells)
            text.AppendLine(string.Join("  ", row.Select((cell, c) => cell.PadRight(size[c]))).TrimEnd());
        return text.ToString();
    }

    /// <inheritdoc cref="Format"/>
    public override string ToString() => Format();

    static string Shape(long[] shape) => $"[{string.Join(", ", shape)}]";
}

using MLNet.WeightSelection.Cli.Infrastructure;
using MLNet.WeightSelection.Selection;
using Spectre.Console;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>Prints a <see cref="SelectionReport"/>: the methods, the layer map of each group, the widths, then one row per tensor.</summary>
internal static class ReportTable
{
    public static void Write(IAnsiConsole console, SelectionReport report, bool filtered)
    {
        console.WriteLine($"Weight selection ({report.Family}) from {report.Teacher}"
            + (filtered ? " (loaded through the family's checkpoint filter)" : ""));
        console.WriteLine($"Layers: {report.LayerSelection}; elements: {report.ElementSelection}{(report.WholeHeads ? ", whole heads" : "")}");
        foreach (var layer in report.Layers)
            console.WriteLine($"  {layer.Group}: {layer.TeacherLayers} -> {layer.StudentLayers} layers, teacher [{string.Join(", ", layer.TeacherIndices)}]");
        foreach (var width in report.Widths)
            console.WriteLine($"  width {width.Name}: {width.TeacherSize} -> {width.StudentSize} ({width.Tensors} tensor axes)");

        var table = Tables.Create("student key", "teacher key", "teacher -> student shape", "method", "note");
        foreach (var row in report.Rows)
        {
            string shapes = row.TeacherShape is null
                ? Format.Shape(row.StudentShape)
                : $"{Format.Shape(row.TeacherShape)} -> {Format.Shape(row.StudentShape)}";
            table.AddTextRow(row.StudentKey, row.TeacherKey ?? "-", shapes, row.Method, row.Note ?? "");
        }
        console.Write(table);
    }
}

namespace MLNet.WeightSelection.Selection;

/// <summary>Turns a selection plan into its report.</summary>
internal static class ReportBuilder
{
    public static SelectionReport Build(SelectionPlan plan, string teacherOrigin)
    {
        var options = plan.Options;
        var widths = plan.Widths.All.Select(w => new WidthSummary(w.Name, w.Aliases.ToArray(), w.TeacherSize, w.StudentSize,
            w.Indices?.ToArray(), w.Uses.Count)).ToArray();
        var rows = plan.Tensors.Select(t => Row(t, options)).ToArray();
        return new SelectionReport(plan.Schema.Family, teacherOrigin, options.LayerSelection.ToString(),
            options.ElementSelection.ToString(), options.WholeHeads, plan.Mapping.Layers, widths, rows);
    }

    static SelectionReportRow Row(TensorPlan t, SelectionOptions options) =>
        new(t.Student.Key, t.Action == TensorAction.KeepStudentInit ? null : t.TeacherKey,
            t.Action == TensorAction.KeepStudentInit ? null : t.TeacherShape?.ToArray(),
            t.Student.Shape.ToArray(), Method(t, options), Widths(t), t.Note);

    static string Method(TensorPlan t, SelectionOptions options)
    {
        if (t.Action == TensorAction.KeepStudentInit) return "kept student init";
        if (t.Action == TensorAction.CopyScalar) return "copy";
        string method = options.ElementSelection.ToString();
        bool resampled = t.Axes.Any(a => a.Action == AxisAction.Resample);
        if (!t.Axes.Any(a => a.TeacherSize != a.StudentSize)) return t.Reshaped ? "copy+reshaped" : "copy";
        // Magnitude works per tensor anyway; the other methods fall back from widths to single axes.
        if (!t.KnownToSchema && options.ElementSelection.Method != ElementSelectionMethod.Magnitude) method = $"per-axis fallback ({method})";
        else if (options.WholeHeads && t.Axes.Any(a => a.Width is { IsAttention: true } w && w.TeacherSize != w.StudentSize))
            method += " (whole heads)";
        if (resampled) method = "resampled+" + method;
        if (t.Reshaped) method += "+reshaped";
        return method;
    }

    static string Widths(TensorPlan t) =>
        t.Action != TensorAction.Select ? "" : "[" + string.Join(", ", t.Axes.Select(a => a.Action switch
        {
            AxisAction.Width => (a.Blocks > 1 ? $"{a.Blocks}x" : "") + a.Width!.Name,
            AxisAction.Resample => "tokens",
            AxisAction.Fallback => "fallback",
            _ => "-",
        })) + "]";
}

namespace MLNet.WeightSelection.Selection;

/// <summary>Options of a weight selection. The defaults are the paper's: first-N layers, uniform elements.</summary>
public sealed record SelectionOptions
{
    /// <summary>Step 1: which teacher layer each student layer takes. Default <see cref="Selection.LayerSelection.FirstN"/>.</summary>
    public LayerSelection LayerSelection { get; init; } = LayerSelection.FirstN;

    /// <summary>Step 3: which elements each student tensor keeps. Default <see cref="Selection.ElementSelection.Uniform"/>;
    /// the random methods carry their seed.</summary>
    public ElementSelection ElementSelection { get; init; } = ElementSelection.Uniform;

    /// <summary>
    /// Select whole attention heads instead of dimensions across all heads. Needs <see cref="TeacherHeads"/> and
    /// <see cref="StudentHeads"/> (the keys do not show the head count), except where the schema names a width that
    /// counts the heads (<see cref="SelectionSchema.HeadCountWidths"/>): its sizes are the counts. Default false.
    /// </summary>
    public bool WholeHeads { get; init; }

    /// <summary>The teacher's attention heads per block, for <see cref="WholeHeads"/>.</summary>
    public int? TeacherHeads { get; init; }

    /// <summary>The student's attention heads per block, for <see cref="WholeHeads"/>.</summary>
    public int? StudentHeads { get; init; }

    /// <summary>
    /// Keys that keep the student's own initialization instead of being selected. Null (default) uses the schema's
    /// classifier keys; an empty list selects the classifier too (when teacher and student have the same classes).
    /// </summary>
    public IReadOnlyList<string>? ClassifierKeys { get; init; }

    /// <summary>Receives progress after each student tensor. Default none.</summary>
    public IProgress<SelectionProgress>? Progress { get; init; }
}

/// <summary>Progress of a weight selection.</summary>
/// <param name="Done">Student tensors finished.</param>
/// <param name="Total">Student tensors in all.</param>
/// <param name="Key">The student key just finished.</param>
public readonly record struct SelectionProgress(int Done, int Total, string Key);

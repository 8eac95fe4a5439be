using System.Text;

namespace MLNet.WeightSelection.Selection;

/// <summary>What is wrong with one key (or layer group, or width) in a weight selection.</summary>
public enum SelectionProblemKind
{
    /// <summary>The student is larger than the teacher on an axis (or has more layers in a group).</summary>
    StudentLargerThanTeacher,

    /// <summary>Teacher and student tensors have different numbers of axes and no family rule maps them.</summary>
    RankMismatch,

    /// <summary>The teacher has no tensor for a student key.</summary>
    MissingTeacherKey,

    /// <summary>The teacher (or student) is not a model of the schema's family.</summary>
    FamilyMismatch,

    /// <summary>Two tensors tied to one width disagree on its size.</summary>
    InconsistentWidth,

    /// <summary>A shape cannot be selected as declared (a fused axis that is not a multiple of its blocks, a token
    /// grid that is not square, heads that do not divide a width).</summary>
    ShapeMismatch,

    /// <summary>The options do not fit the models (an explicit layer map, whole-head selection without head counts).</summary>
    InvalidOptions,
}

/// <summary>One problem found while planning a weight selection.</summary>
/// <param name="Kind">What is wrong.</param>
/// <param name="Key">The student key, layer group or width concerned.</param>
/// <param name="Detail">What was expected and what was found.</param>
public sealed record SelectionProblem(SelectionProblemKind Kind, string Key, string Detail)
{
    /// <inheritdoc />
    public override string ToString() => $"{Kind}: {Key}: {Detail}";
}

/// <summary>
/// Weight selection cannot proceed. <see cref="Problems"/> lists every offending key; nothing was written.
/// </summary>
public sealed class WeightSelectionException : InvalidOperationException
{
    /// <summary>Creates the exception from the problems found.</summary>
    public WeightSelectionException(string teacherOrigin, IReadOnlyList<SelectionProblem> problems)
        : base(Describe(teacherOrigin, problems)) => Problems = problems;

    /// <summary>Every problem found, one per offending key.</summary>
    public IReadOnlyList<SelectionProblem> Problems { get; }

    static string Describe(string teacherOrigin, IReadOnlyList<SelectionProblem> problems)
    {
        var text = new StringBuilder($"Weight selection from '{teacherOrigin}' failed with {problems.Count} problem(s); nothing was written:");
        foreach (var p in problems) text.Append("\n  ").Append(p);
        return text.ToString();
    }
}

using static TorchSharp.torch;

namespace MLNet.WeightSelection.Selection;

/// <summary>A student tensor to fill: its key, shape, and dtype (null: the teacher's).</summary>
internal sealed record StudentTensor(string Key, ScalarType? DType, long[] Shape);

internal enum TensorAction { KeepStudentInit, CopyScalar, Select }

internal enum AxisAction
{
    /// <summary>Equal sizes, tied to nothing: read whole.</summary>
    Whole,
    /// <summary>Indexed through a width's index set (repeated per block for a fused axis).</summary>
    Width,
    /// <summary>Tied to nothing and smaller in the student: per-axis element selection.</summary>
    Fallback,
    /// <summary>Position-embedding tokens on another grid: resampled.</summary>
    Resample,
}

internal sealed record AxisPlan(AxisAction Action, long TeacherSize, long StudentSize, Width? Width = null, int Blocks = 1);

/// <summary>How one student tensor is produced; fixed before any tensor data is read.</summary>
internal sealed class TensorPlan
{
    public required StudentTensor Student { get; init; }
    public TensorAction Action { get; set; } = TensorAction.Select;
    public string? TeacherKey { get; set; }
    public long[]? TeacherShape { get; set; }
    public ScalarType TeacherDType { get; set; }
    public AxisPlan[] Axes { get; set; } = Array.Empty<AxisPlan>();

    /// <summary>The student's shape in the teacher's rank (differs from the student shape only under a reshape rule).</summary>
    public long[] TargetShape { get; set; } = Array.Empty<long>();

    public bool Reshaped { get; set; }
    public bool KnownToSchema { get; set; }
    public string? Note { get; set; }

    /// <summary>Prefix tokens kept when resampling the token axis.</summary>
    public int PrefixTokens { get; set; }

    public ScalarType DType => Student.DType ?? TeacherDType;
}

/// <summary>Everything weight selection decided before reading tensor data.</summary>
internal sealed class SelectionPlan
{
    public required SelectionSchema Schema { get; init; }
    public required ComponentMapping Mapping { get; init; }
    public required WidthTable Widths { get; init; }
    public required IReadOnlyList<TensorPlan> Tensors { get; init; }
    public required SelectionOptions Options { get; init; }
}

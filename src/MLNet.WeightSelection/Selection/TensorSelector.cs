using MLNet.WeightSelection.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Selection;

/// <summary>
/// Produces one student tensor from its plan. It reads only the selected slices (<see cref="ITensorSource.ReadSelected"/>)
/// unless the method needs the data (L1 on an unbound axis, magnitude) or the token grid is resampled.
/// </summary>
internal static class TensorSelector
{
    public static Tensor Select(SelectionPlan plan, TensorPlan tensor, ITensorSource teacher)
    {
        using var scope = NewDisposeScope();
        var result = tensor.Action switch
        {
            TensorAction.CopyScalar => teacher.Read(tensor.TeacherKey!, tensor.DType),
            TensorAction.Select when plan.Options.ElementSelection.Method == ElementSelectionMethod.Magnitude => Magnitude(tensor, teacher),
            TensorAction.Select => Indexed(plan, tensor, teacher),
            _ => throw new InvalidOperationException($"'{tensor.Student.Key}' is not selected from the teacher."),
        };
        if (tensor.Reshaped) result = result.reshape(tensor.Student.Shape);
        if (result.dtype != tensor.DType) result = result.to_type(tensor.DType);
        if (!result.shape.SequenceEqual(tensor.Student.Shape))
            throw new InvalidOperationException(
                $"Selecting '{tensor.Student.Key}' from '{tensor.TeacherKey}' gave [{string.Join(", ", result.shape)}], expected [{string.Join(", ", tensor.Student.Shape)}].");
        return result.contiguous().DetachFromDisposeScope();
    }

    static Tensor Indexed(SelectionPlan plan, TensorPlan tensor, ITensorSource teacher)
    {
        var method = plan.Options.ElementSelection;
        var indices = new long[]?[tensor.Axes.Length];
        for (int a = 0; a < indices.Length; a++) indices[a] = AxisIndices(tensor, a, method);

        bool resample = tensor.Axes.Any(x => x.Action == AxisAction.Resample);
        bool l1Fallback = method.Method == ElementSelectionMethod.L1 && tensor.Axes.Any(x => x.Action == AxisAction.Fallback);
        if (!resample && !l1Fallback) return teacher.ReadSelected(tensor.TeacherKey!, indices, tensor.DType);

        var data = teacher.Read(tensor.TeacherKey!, tensor.DType);
        if (resample) data = Resample(data, tensor);
        for (int a = 0; a < indices.Length; a++)
        {
            if (tensor.Axes[a].Action == AxisAction.Fallback && method.Method == ElementSelectionMethod.L1)
            {
                using var sums = WidthIndexer.AxisSums(data.abs(), a);
                indices[a] = ElementSelection.TopIndices(sums.data<double>().ToArray(), tensor.Axes[a].StudentSize);
            }
            if (indices[a] is { } idx) data = data.index_select(a, torch.tensor(idx, ScalarType.Int64));
        }
        return data;
    }

    static long[]? AxisIndices(TensorPlan tensor, int axis, ElementSelection method)
    {
        var plan = tensor.Axes[axis];
        long t = plan.TeacherSize, s = plan.StudentSize;
        string stream = $"{tensor.Student.Key}#{axis}";
        switch (plan.Action)
        {
            case AxisAction.Width when method.IsConsistent:
                var width = plan.Width!;
                if (width.KeepsAll) return null;
                long size = t / plan.Blocks;
                var indices = width.Indices!;
                return Enumerable.Range(0, plan.Blocks).SelectMany(b => indices.Select(i => b * size + i)).ToArray();
            case AxisAction.Width when t != s:
            case AxisAction.Fallback:
                return method.Method switch
                {
                    ElementSelectionMethod.Uniform => ElementSelection.UniformIndices(t, s),
                    ElementSelectionMethod.Consecutive => ElementSelection.ConsecutiveIndices(t, s),
                    ElementSelectionMethod.RandomConsistent or ElementSelectionMethod.RandomInconsistent
                        => ElementSelection.RandomIndices(t, s, method.Seed, stream),
                    _ => null, // L1: ranked from the data by the caller
                };
            default:
                return null;
        }
    }

    // The paper's magnitude baseline: the tensor's top-|w| elements, in their original order, in the student's shape.
    static Tensor Magnitude(TensorPlan tensor, ITensorSource teacher)
    {
        var data = teacher.Read(tensor.TeacherKey!, tensor.DType);
        if (tensor.Axes.Any(x => x.Action == AxisAction.Resample)) data = Resample(data, tensor);
        if (data.shape.SequenceEqual(tensor.TargetShape)) return data;
        long count = tensor.TargetShape.Aggregate(1L, (a, b) => a * b);
        var flat = data.flatten();
        var (_, top) = flat.abs().topk((int)count);
        var (ordered, _) = top.sort();
        return flat.index_select(0, ordered).reshape(tensor.TargetShape);
    }

    // A token axis is a square grid: a position embedding's axis 1 ([1, tokens, dim]) or a flattened table's axis 0
    // ([grid², dim], a windowed model's relative position bias table over its (2w−1)² offsets).
    static Tensor Resample(Tensor posEmbed, TensorPlan tensor)
    {
        int axis = Array.FindIndex(tensor.Axes, x => x.Action == AxisAction.Resample);
        bool table = axis == 0 && posEmbed.dim() == 2;
        if (!table && (axis != 1 || posEmbed.dim() != 3))
            throw new InvalidOperationException($"'{tensor.TeacherKey}': only [1, tokens, dim] position embeddings and [grid², dim] tables can be resampled.");
        int side = (int)Math.Round(Math.Sqrt(tensor.Axes[axis].StudentSize - tensor.PrefixTokens));
        if (table) return PositionEmbeddings.Resample(posEmbed.unsqueeze(0), (side, side), 0).squeeze(0);
        return PositionEmbeddings.Resample(posEmbed, (side, side), tensor.PrefixTokens);
    }
}

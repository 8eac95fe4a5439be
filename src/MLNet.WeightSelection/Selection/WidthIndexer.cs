using MLNet.WeightSelection.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Selection;

/// <summary>
/// Computes each width's index set once (consistent element selection). L1 ranks a width by the summed |w| of the
/// teacher tensors tied to it, read one tensor at a time.
/// </summary>
internal static class WidthIndexer
{
    public static void Assign(SelectionPlan plan, ITensorSource teacher)
    {
        var method = plan.Options.ElementSelection;
        if (!method.IsConsistent) return; // every axis draws its own indices
        var scores = method.Method == ElementSelectionMethod.L1 ? L1Scores(plan, teacher) : null;
        var chosenHeads = new List<(Width HeadCount, long[] Heads)>();
        foreach (var width in plan.Widths.All)
        {
            long t = width.TeacherSize, s = width.StudentSize;
            if (plan.Options.WholeHeads && width.IsAttention)
            {
                width.Indices = HeadIndices(width, plan.Options, scores?[width], out var heads);
                if (width.HeadCount is { } count) chosenHeads.Add((count, heads));
            }
            else width.Indices = Choose(method, t, s, width.Name, scores?[width]);
        }
        // A per-head axis (a relative position bias table's) keeps the heads its attention width kept.
        foreach (var (count, heads) in chosenHeads) count.Indices = heads;
    }

    /// <summary>Teacher and student heads of an attention width: from its head-count width when the schema names one, else the options.</summary>
    internal static (int Teacher, int Student) HeadCounts(Width width, SelectionOptions options) =>
        width.HeadCount is { } count ? ((int)count.TeacherSize, (int)count.StudentSize) : (options.TeacherHeads!.Value, options.StudentHeads!.Value);

    static long[] Choose(ElementSelection method, long t, long s, string stream, double[]? scores) => method.Method switch
    {
        ElementSelectionMethod.Uniform => ElementSelection.UniformIndices(t, s),
        ElementSelectionMethod.Consecutive => ElementSelection.ConsecutiveIndices(t, s),
        ElementSelectionMethod.RandomConsistent => ElementSelection.RandomIndices(t, s, method.Seed, stream),
        ElementSelectionMethod.L1 => ElementSelection.TopIndices(scores!, s),
        _ => throw new InvalidOperationException($"{method} has no per-width index set."),
    };

    // Heads are the unit: choose whole heads, then the same dims inside each chosen head.
    static long[] HeadIndices(Width width, SelectionOptions options, double[]? scores, out long[] heads)
    {
        var (th, sh) = HeadCounts(width, options);
        long dt = width.TeacherSize / th, ds = width.StudentSize / sh;
        var method = options.ElementSelection;
        double[]? headScores = scores is null ? null
            : Enumerable.Range(0, th).Select(h => scores.Skip((int)(h * dt)).Take((int)dt).Sum()).ToArray();
        heads = Choose(method, th, sh, width.Name + "#heads", headScores);
        var dims = method.Method == ElementSelectionMethod.Consecutive
            ? ElementSelection.ConsecutiveIndices(dt, ds)
            : ElementSelection.UniformIndices(dt, ds);
        return heads.SelectMany(h => dims.Select(d => h * dt + d)).ToArray();
    }

    static Dictionary<Width, double[]> L1Scores(SelectionPlan plan, ITensorSource teacher)
    {
        var scores = plan.Widths.All.ToDictionary(w => w, w => new double[w.TeacherSize]);
        foreach (var tensor in plan.Tensors)
        {
            if (tensor.Action != TensorAction.Select || !tensor.Axes.Any(a => a.Action == AxisAction.Width)) continue;
            if (!IsWeight(tensor.TeacherKey!, tensor.TeacherDType)) continue;
            using var scope = NewDisposeScope();
            var data = teacher.Read(tensor.TeacherKey!, ScalarType.Float32).abs();
            for (int axis = 0; axis < tensor.Axes.Length; axis++)
            {
                var plan1 = tensor.Axes[axis];
                if (plan1.Action != AxisAction.Width) continue;
                var perIndex = AxisSums(data, axis).reshape(plan1.Blocks, -1).sum(0L, keepdim: false); // 0L: a literal 0 would bind to sum(ScalarType)
                var values = perIndex.data<double>().ToArray();
                var target = scores[plan1.Width!];
                for (int i = 0; i < values.Length; i++) target[i] += values[i];
            }
        }
        return scores;
    }

    /// <summary>Sum of |w| over every axis but <paramref name="axis"/>, in double.</summary>
    internal static Tensor AxisSums(Tensor absolute, int axis)
    {
        long size = absolute.shape[axis];
        return absolute.transpose(0, axis).reshape(size, -1).to_type(ScalarType.Float64).sum(1);
    }

    // BatchNorm running statistics are not weights; ranking by them would rank by activation statistics.
    static bool IsWeight(string key, ScalarType dtype) =>
        torch.is_floating_point(dtype) && !key.EndsWith(".running_mean", StringComparison.Ordinal)
        && !key.EndsWith(".running_var", StringComparison.Ordinal);
}

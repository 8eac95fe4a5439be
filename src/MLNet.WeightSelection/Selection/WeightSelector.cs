using MLNet.WeightSelection.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Selection;

/// <summary>
/// Weight selection (Xu et al., ICLR 2024, "Initializing Models with Larger Ones"): initializes a student from a
/// larger teacher of the same family in three steps: <see cref="LayerSelection"/>, <see cref="ComponentMapping"/>,
/// <see cref="ElementSelection"/>. It plans from keys and shapes first, so every problem is reported (and nothing
/// written) before any tensor is read; then it reads only the teacher slices it keeps.
/// </summary>
public static class WeightSelector
{
    /// <summary>
    /// Selects every student tensor from <paramref name="teacher"/>; the classifier keeps the tensors of
    /// <paramref name="student"/> (the student's own initialization), which also give the shapes and dtypes.
    /// </summary>
    /// <param name="teacher">The larger pretrained model (a memory-mapped checkpoint streams).</param>
    /// <param name="student">The student's initialized state dict.</param>
    /// <param name="schema">The family's schema; detected from the student's keys when null.</param>
    /// <param name="options">Options; the paper's defaults when null.</param>
    /// <exception cref="WeightSelectionException">Lists every offending key.</exception>
    public static SelectionResult Select(ITensorSource teacher, ITensorSource student, SelectionSchema? schema = null,
        SelectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(student);
        var tensors = student.Keys.Select(k => student.GetInfo(k)).Select(i => new StudentTensor(i.Name, i.DType, i.Shape)).ToArray();
        return Run(teacher, tensors, key => student.Read(key), schema, options);
    }

    /// <summary>
    /// Selects a student described only by its shapes (key → shape, in the student's order): a streaming selection
    /// that never needs the student's own tensors. Selected tensors keep the teacher's dtype; the classifier keys
    /// are not in the result (the report says they keep the student's initialization).
    /// </summary>
    /// <exception cref="WeightSelectionException">Lists every offending key.</exception>
    public static SelectionResult Select(ITensorSource teacher, IEnumerable<KeyValuePair<string, long[]>> studentShapes,
        SelectionSchema? schema = null, SelectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(studentShapes);
        var tensors = studentShapes.Select(kv => new StudentTensor(kv.Key, null, kv.Value.ToArray())).ToArray();
        return Run(teacher, tensors, null, schema, options);
    }

    /// <summary>
    /// Selects weights from <paramref name="teacher"/> into <paramref name="student"/>'s parameters and buffers
    /// (names and shapes from its state dict); the classifier keeps its own initialization. All tensors are
    /// selected first and copied in under no_grad only when every one succeeded, so on error the module is untouched.
    /// </summary>
    /// <returns>The report, one row per student tensor.</returns>
    /// <exception cref="WeightSelectionException">Lists every offending key; the module is unchanged.</exception>
    public static SelectionReport SelectInto(ITensorSource teacher, nn.Module student, SelectionSchema? schema = null,
        SelectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        options ??= new SelectionOptions();
        return SelectInto(SelectionPlanner.Plan(teacher, StudentTensors(student), schema, options), teacher, student, options);
    }

    /// <summary>The student's tensors as the planner sees them: key, dtype and shape from its state dict.</summary>
    internal static StudentTensor[] StudentTensors(nn.Module student) =>
        student.state_dict().Select(kv => new StudentTensor(kv.Key, kv.Value.dtype, kv.Value.shape)).ToArray();

    /// <summary>
    /// <see cref="SelectInto(ITensorSource, nn.Module, SelectionSchema?, SelectionOptions?)"/> with a plan made
    /// earlier from the same teacher, student and options (the estimator checks selectability before reading any
    /// image and keeps the plan).
    /// </summary>
    internal static SelectionReport SelectInto(SelectionPlan plan, ITensorSource teacher, nn.Module student, SelectionOptions options)
    {
        var state = student.state_dict();
        using var result = Run(plan, teacher, null, options);
        using (no_grad())
        {
            foreach (var (key, value) in result.Weights) state[key].copy_(value);
        }
        return result.Report;
    }

    static SelectionResult Run(ITensorSource teacher, IReadOnlyList<StudentTensor> student, Func<string, Tensor>? studentInit,
        SelectionSchema? schema, SelectionOptions? options)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        options ??= new SelectionOptions();
        return Run(SelectionPlanner.Plan(teacher, student, schema, options), teacher, studentInit, options);
    }

    static SelectionResult Run(SelectionPlan plan, ITensorSource teacher, Func<string, Tensor>? studentInit, SelectionOptions options)
    {
        WidthIndexer.Assign(plan, teacher);

        var weights = new StateDict($"selected from {teacher.Origin}");
        try
        {
            int done = 0;
            foreach (var tensor in plan.Tensors)
            {
                if (tensor.Action != TensorAction.KeepStudentInit)
                    weights.Add(tensor.Student.Key, TensorSelector.Select(plan, tensor, teacher));
                else if (studentInit is not null)
                    weights.Add(tensor.Student.Key, studentInit(tensor.Student.Key));
                options.Progress?.Report(new SelectionProgress(++done, plan.Tensors.Count, tensor.Student.Key));
            }
        }
        catch
        {
            weights.Dispose();
            throw;
        }
        return new SelectionResult(weights, ReportBuilder.Build(plan, teacher.Origin));
    }
}

using MLNet.WeightSelection.Checkpoints;

namespace MLNet.WeightSelection.Selection;

/// <summary>
/// Plans a weight selection from keys and shapes alone: the family, layer selection, component mapping, and each
/// axis's width. Every problem is collected, so the exception lists every offending key before anything is read.
/// </summary>
internal static class SelectionPlanner
{
    static long _plansMade;

    /// <summary>Plans made in this process (a test reads it to check that a <c>Fit</c> plans once).</summary>
    internal static long PlansMade => Interlocked.Read(ref _plansMade);

    public static SelectionPlan Plan(ITensorSource teacher, IReadOnlyList<StudentTensor> student, SelectionSchema? schema,
        SelectionOptions options)
    {
        Interlocked.Increment(ref _plansMade);
        var problems = new List<SelectionProblem>();
        var studentKeys = student.Select(s => s.Key).ToArray();
        var teacherKeys = teacher.Keys;

        schema ??= FamilySchemas.Detect(studentKeys) ?? throw new WeightSelectionException(teacher.Origin, new[]
        {
            new SelectionProblem(SelectionProblemKind.FamilyMismatch, "student",
                $"the student's keys match no known family ({string.Join(", ", FamilySchemas.All.Select(s => s.Family))}); pass a selection schema"),
        });
        CheckFamily(schema, "student", studentKeys, problems);
        CheckFamily(schema, "teacher", teacherKeys, problems);
        if (problems.Count > 0) throw new WeightSelectionException(teacher.Origin, problems);

        var mapping = ComponentMapping.Create(schema, teacherKeys, studentKeys, options.LayerSelection, problems);
        var widths = new WidthTable();
        foreach (var tie in schema.Ties?.Invoke(studentKeys) ?? Enumerable.Empty<WidthTie>()) widths.Tie(tie);

        var classifier = new HashSet<string>(options.ClassifierKeys ?? schema.ClassifierKeys, StringComparer.Ordinal);
        var tensors = new List<TensorPlan>(student.Count);
        foreach (var s in student)
        {
            var plan = new TensorPlan { Student = s };
            tensors.Add(plan);
            if (classifier.Contains(s.Key))
            {
                plan.Action = TensorAction.KeepStudentInit;
                plan.Note = "classifier: keeps the student's own initialization";
                continue;
            }
            PlanTensor(plan, teacher, schema, mapping, widths, student, problems);
        }
        widths.Check(problems);
        foreach (var width in widths.All.Where(w => w.IsAttention))
            if (schema.HeadCountWidthOf(width.Name) is { } heads) width.HeadCount = widths.Find(heads);
        CheckHeads(schema, widths, options, problems);
        if (problems.Count > 0) throw new WeightSelectionException(teacher.Origin, problems);
        return new SelectionPlan { Schema = schema, Mapping = mapping, Widths = widths, Tensors = tensors, Options = options };
    }

    static void CheckFamily(SelectionSchema schema, string side, IReadOnlyCollection<string> keys, List<SelectionProblem> problems)
    {
        var missing = schema.MissingSignature(keys);
        if (missing.Count == 0) return;
        var detected = FamilySchemas.Detect(keys);
        problems.Add(new(SelectionProblemKind.FamilyMismatch, side,
            $"the {side} is not a {schema.Family} model (it looks like {(detected is null ? "no known family" : detected.Family)}): "
            + $"no key matches {string.Join(", ", missing)}"));
    }

    static void PlanTensor(TensorPlan plan, ITensorSource teacher, SelectionSchema schema, ComponentMapping mapping,
        WidthTable widths, IReadOnlyList<StudentTensor> student, List<SelectionProblem> problems)
    {
        string key = plan.Student.Key;
        var teacherKey = mapping.TeacherKey(key);
        if (teacherKey is null) return; // its layer group already failed layer selection
        if (!teacher.Contains(teacherKey))
        {
            problems.Add(new(SelectionProblemKind.MissingTeacherKey, key,
                teacherKey == key ? "the teacher has no tensor of this name" : $"the teacher has no '{teacherKey}'"));
            return;
        }
        var info = teacher.GetInfo(teacherKey);
        plan.TeacherKey = teacherKey;
        plan.TeacherShape = info.Shape;
        plan.TeacherDType = info.DType;

        var shape = plan.Student.Shape;
        if (shape.Length == 0 && info.Shape.Length == 0)
        {
            plan.Action = TensorAction.CopyScalar;
            plan.KnownToSchema = true;
            plan.Note = "scalar: copied";
            return;
        }
        var target = mapping.StudentShapeInTeacherRank(key, shape, info.Shape);
        if (target is null)
        {
            problems.Add(new(SelectionProblemKind.RankMismatch, key,
                $"the student's shape [{string.Join(", ", shape)}] has {shape.Length} axes, the teacher's '{teacherKey}' [{string.Join(", ", info.Shape)}] {info.Shape.Length}"));
            return;
        }
        plan.TargetShape = target;
        plan.Reshaped = target.Length != shape.Length;

        var bindings = schema.Bind(key, target.Length);
        plan.KnownToSchema = bindings is not null;
        bindings ??= Array.Empty<AxisBinding>();
        var larger = new List<string>();
        var axes = new AxisPlan[target.Length];
        for (int a = 0; a < target.Length; a++)
        {
            long t = info.Shape[a], s = target[a];
            var binding = a < bindings.Length ? bindings[a] : AxisBinding.None;
            switch (binding.Kind)
            {
                case AxisBindingKind.Width:
                    int blocks = binding.Blocks;
                    if (t % blocks != 0 || s % blocks != 0)
                    {
                        problems.Add(new(SelectionProblemKind.ShapeMismatch, key,
                            $"axis {a} holds {blocks} blocks of width '{binding.Width}', but teacher size {t} / student size {s} are not multiples of {blocks}"));
                        axes[a] = new AxisPlan(AxisAction.Whole, t, s);
                        break;
                    }
                    var width = widths.Use(binding.Width!, key, a, t / blocks, s / blocks);
                    width.IsAttention |= schema.IsAttentionWidth(binding.Width!);
                    axes[a] = new AxisPlan(AxisAction.Width, t, s, width, blocks);
                    break;
                case AxisBindingKind.Tokens when t != s:
                    axes[a] = new AxisPlan(AxisAction.Resample, t, s);
                    plan.PrefixTokens = PlanResample(key, t, s, teacher, schema, student, problems);
                    break;
                default:
                    if (s > t) larger.Add($"axis {a}: {s} > {t}");
                    axes[a] = new AxisPlan(t == s ? AxisAction.Whole : AxisAction.Fallback, t, s);
                    break;
            }
        }
        if (larger.Count > 0)
            problems.Add(new(SelectionProblemKind.StudentLargerThanTeacher, key,
                $"the student's [{string.Join(", ", shape)}] is larger than the teacher's '{teacherKey}' [{string.Join(", ", info.Shape)}] on {string.Join(", ", larger)}"));
        plan.Axes = axes;
        if (!plan.KnownToSchema) plan.Note = $"not in the {schema.Family} schema: per-axis fallback";
        else if (axes.Any(x => x.Action == AxisAction.Fallback))
            plan.Note = "per-axis fallback on unbound axis " + string.Join(", ",
                axes.Select((x, i) => (x, i)).Where(p => p.x.Action == AxisAction.Fallback).Select(p => $"{p.i} ({p.x.TeacherSize} -> {p.x.StudentSize})"));
    }

    // The token grids must be square once the prefix tokens (class, distillation, register) are set aside.
    static int PlanResample(string key, long teacherTokens, long studentTokens, ITensorSource teacher, SelectionSchema schema,
        IReadOnlyList<StudentTensor> student, List<SelectionProblem> problems)
    {
        int teacherPrefix = schema.PrefixTokenKeys.Where(teacher.Contains)
            .Sum(k => teacher.GetInfo(k).Shape is { Length: 3 } sh ? (int)sh[1] : 0);
        int studentPrefix = schema.PrefixTokenKeys.Select(k => student.FirstOrDefault(s => s.Key == k))
            .Sum(s => s?.Shape is { Length: 3 } sh ? (int)sh[1] : 0);
        int prefix = PrefixInEmbedding(teacherTokens, teacherPrefix);
        if (prefix < 0 || PrefixInEmbedding(studentTokens, studentPrefix) != prefix)
            problems.Add(new(SelectionProblemKind.ShapeMismatch, key,
                $"cannot resample {teacherTokens} teacher tokens ({teacherPrefix} prefix) to {studentTokens} student tokens ({studentPrefix} prefix): the grids must be square with the same prefix tokens"));
        return prefix;
    }

    // timm's no_embed_class models keep prefix tokens out of pos_embed: then the whole axis is the grid.
    static int PrefixInEmbedding(long tokens, int prefix) =>
        IsSquare(tokens - prefix) ? prefix : IsSquare(tokens) ? 0 : -1;

    static bool IsSquare(long n)
    {
        if (n <= 0) return false;
        long r = (long)Math.Round(Math.Sqrt(n));
        return r * r == n;
    }

    static void CheckHeads(SelectionSchema schema, WidthTable widths, SelectionOptions options, List<SelectionProblem> problems)
    {
        if (!options.WholeHeads) return;
        var attention = widths.All.Where(w => w.IsAttention && w.Uses.Count > 0).ToList();
        bool countsFromOptions = attention.Count == 0 || attention.Any(w => w.HeadCount is null);
        if (countsFromOptions && (options.TeacherHeads is not > 0 || options.StudentHeads is not > 0))
        {
            problems.Add(new(SelectionProblemKind.InvalidOptions, "WholeHeads",
                "whole-head selection needs TeacherHeads and StudentHeads (the keys do not show the head count)"));
            return;
        }
        if (!options.ElementSelection.IsConsistent)
        {
            problems.Add(new(SelectionProblemKind.InvalidOptions, "WholeHeads",
                $"whole-head selection needs a consistent element selection, not {options.ElementSelection}"));
            return;
        }
        foreach (var width in attention)
        {
            var (th, sh) = WidthIndexer.HeadCounts(width, options);
            if (sh > th || width.TeacherSize % th != 0 || width.StudentSize % sh != 0 || width.StudentSize / sh > width.TeacherSize / th)
                problems.Add(new(SelectionProblemKind.ShapeMismatch, width.Name,
                    $"whole heads: teacher width {width.TeacherSize} in {th} heads, student width {width.StudentSize} in {sh} heads do not split into heads the student can take"));
        }
        if (!widths.All.Any(w => w.IsAttention))
            problems.Add(new(SelectionProblemKind.InvalidOptions, "WholeHeads", $"the {schema.Family} schema has no attention widths"));
    }
}

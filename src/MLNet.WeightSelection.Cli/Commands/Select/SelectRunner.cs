using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Cli.Infrastructure;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Selection;
using Spectre.Console;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>
/// The work of <c>ws select</c>: resolve both specs, open and check the teacher, build the student (its own
/// initialization seeded), select every tensor but the classifier, and write the state dict and report together.
/// </summary>
internal static class SelectRunner
{
    public static int Run(SelectRequest request, CliContext context)
    {
        string output = AtomicOutputs.CheckTarget(request.Out, "--out");
        string? reportPath = request.Report is null ? null : AtomicOutputs.CheckTarget(request.Report, "--report");
        if (reportPath is not null && reportPath == output) throw new CliException("--report and --out name the same file.");

        var studentSpec = ModelRegistry.WithOverrides(Specs.Resolve(request.StudentSpec, "--student-spec"), request.NumClasses, request.ImageSize);
        var teacherSpec = request.TeacherSpec is null ? null : Specs.Resolve(request.TeacherSpec, "--teacher-spec");
        if (teacherSpec is not null && teacherSpec.Family != studentSpec.Family)
            throw new CliException($"The teacher spec is a {teacherSpec.Family} but the student spec a {studentSpec.Family}; weight selection needs one family.");
        var options = new SelectionOptions
        {
            LayerSelection = LayerMaps.Parse(request.LayerMap, SelectionMethods.Layers(request.Layers), "--layer-map"),
            ElementSelection = SelectionMethods.Elements(request.Elements, request.Seed),
        };
        if (request.WholeHeads) options = WithHeads(options, teacherSpec, studentSpec);

        using var file = WeightFile.Open(request.Teacher, "--teacher");
        using var teacher = TeacherWeights.Prepare(file, teacherSpec, "--teacher-spec");
        if (teacher.Family != studentSpec.Family)
            throw new CliException($"The teacher '{file.Path}' is a {teacher.Family} but the student spec a {studentSpec.Family}; weight selection needs one family.");

        // A student inherits its teacher's input convention: its selected stem filters and norms only fit that input.
        if ((file.Input ?? teacherSpec?.Input) is { } inherited) studentSpec = studentSpec with { Input = inherited };

        using var selection = Select(teacher.Tensors, studentSpec, options, request.Seed, context);
        var report = selection.Report;
        var kept = report.Rows.Where(r => r.TeacherKey is null).Select(r => r.StudentKey).ToList();
        var written = selection.Weights.Where(kv => request.WithClassifier || !kept.Contains(kv.Key)).ToList();

        using (var outputs = new AtomicOutputs())
        {
            outputs.Add(output, temp => SafeTensorsWriter.Save(temp, written, Metadata(request, file, studentSpec, report, kept)));
            if (reportPath is not null) outputs.Add(reportPath, temp => File.WriteAllText(temp, report.ToJson()));
            outputs.Commit();
        }

        ReportTable.Write(context.Out, report, teacher.Filtered);
        long parameters = written.Where(kv => !CheckpointSummary.IsBuffer(kv.Key)).Sum(kv => kv.Value.numel());
        context.Out.WriteLine($"Wrote {output}: {written.Count} tensors, {Format.Count(parameters)} parameters.");
        if (kept.Count > 0)
            context.Out.WriteLine(request.WithClassifier
                ? $"The classifier ({string.Join(", ", kept)}) holds the student's own initialization (seed {request.Seed}); load with strict=True."
                : $"The classifier ({string.Join(", ", kept)}) is left out: load with model.load_state_dict(state, strict=False), or pass --with-classifier.");
        var input = studentSpec.Input;
        context.Out.WriteLine($"Input convention (in the file's mlnet_ws.student_spec): {input.Order}, pixels / {input.Scale}, "
            + $"mean [{string.Join(", ", input.Mean)}], std [{string.Join(", ", input.Std)}].");
        if (reportPath is not null) context.Out.WriteLine($"Wrote the report to {reportPath}.");
        return ExitCodes.Success;
    }

    static SelectionResult Select(ITensorSource teacher, ModelSpec studentSpec, SelectionOptions options, int seed, CliContext context)
    {
        // The student's own initialization is what the classifier keeps; seeding makes the file reproducible.
        manual_seed(seed);
        using var student = studentSpec.CreateModel();
        using var init = StateDict.FromModule(student, $"{studentSpec.Family} student");
        if (!context.Out.Profile.Capabilities.Interactive)
            return WeightSelector.Select(teacher, init, FamilySchemas.ByName(studentSpec.Family), options);
        return context.Out.Progress().Start(progress =>
        {
            var task = progress.AddTask("selecting", maxValue: init.Count);
            var withProgress = options with { Progress = new Progress(p => task.Value = p.Done) };
            var result = WeightSelector.Select(teacher, init, FamilySchemas.ByName(studentSpec.Family), withProgress);
            task.Value = init.Count;
            return result;
        });
    }

    static SelectionOptions WithHeads(SelectionOptions options, ModelSpec? teacherSpec, ModelSpec studentSpec)
    {
        int? teacherHeads = teacherSpec is null ? null : ModelFamilies.Get(teacherSpec.Family).AttentionHeads(teacherSpec);
        int? studentHeads = ModelFamilies.Get(studentSpec.Family).AttentionHeads(studentSpec);
        if (teacherHeads is null || studentHeads is null)
            throw new CliException("--whole-heads needs ViT specs for both models (--teacher-spec and --student-spec), which give num_heads.");
        return options with { WholeHeads = true, TeacherHeads = teacherHeads, StudentHeads = studentHeads };
    }

    static Dictionary<string, string> Metadata(SelectRequest request, WeightFile file, ModelSpec studentSpec, SelectionReport report,
        IReadOnlyList<string> kept) => new()
    {
        // timm's and safetensors' own writers mark PyTorch tensors so; some loaders look for it.
        ["format"] = "pt",
        ["mlnet_ws.student_spec"] = studentSpec.ToJson(indented: false),
        ["mlnet_ws.teacher"] = Path.GetFileName(file.Path),
        ["mlnet_ws.layer_selection"] = report.LayerSelection,
        ["mlnet_ws.element_selection"] = report.ElementSelection,
        ["mlnet_ws.classifier"] = kept.Count == 0 ? "none" : request.WithClassifier ? $"student init (seed {request.Seed})" : "left out",
    };

    /// <summary>An IProgress that reports synchronously on the selecting thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    sealed class Progress(Action<SelectionProgress> report) : IProgress<SelectionProgress>
    {
        public void Report(SelectionProgress value) => report(value);
    }
}

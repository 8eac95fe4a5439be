using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Transforms;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Checkpoints.Onnx;
using MLNet.WeightSelection.Cli.Infrastructure;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Training;
using Spectre.Console;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>
/// The work of <c>ws train</c>: the sample's flow on any image folder. Labels become keys and images load with ML.NET's
/// own transforms, <c>InitializeFromTeacher</c> selects and trains the student (the test split is its per-epoch
/// validation set), and the fitted pipeline is saved as model.zip next to the student as ONNX and safetensors.
/// </summary>
internal static class TrainRunner
{
    public static int Run(TrainRequest request, CliContext context)
    {
        Check(request);
        var studentSpec = Specs.Resolve(request.Student, "--student");
        bool select = request.Init == "selection";
        var (teacher, teacherInput) = TeacherFor(request, studentSpec, needed: select || request.Distill != "none");
        string outFolder = Path.GetFullPath(request.Out);
        if (File.Exists(outFolder)) throw new CliException($"--out: '{outFolder}' is a file; give a folder.");

        var (train, test) = ImageFolder.LoadSplits(request.Data, "--data");
        if (test is null)
        {
            (train, test) = ImageFolder.Split(train, request.TestFraction, request.Seed);
            context.Out.WriteLine($"No test/ folder: holding out {test.Count} of {train.Count + test.Count} images as the test split (--test-fraction {request.TestFraction.ToString(CultureInfo.InvariantCulture)}).");
        }
        int classes = train.Select(r => r.Label).Distinct().Count();
        if (classes < 2) throw new CliException($"--data: the training images have {classes} class; a classifier needs at least 2.");
        context.Out.WriteLine($"Data: {train.Count} training and {test.Count} test images, {classes} classes.");

        var ml = new MLContext(request.Seed);
        var trainView = ml.Data.LoadFromEnumerable(train);
        var prefix = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Append(ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageRow.ImagePath)))
            .Fit(trainView);
        var testView = ml.Data.LoadFromEnumerable(test);

        var options = new WeightSelectionOptions
        {
            Teacher = teacher,
            Student = Architecture.FromSpec(studentSpec),
            ImageSize = request.ImageSize,
            Seed = request.Seed,
            Initialization = select ? Initialization.WeightSelection : Initialization.Random,
            LayerSelection = SelectionMethods.Layers(request.Layers),
            ElementSelection = SelectionMethods.Elements(request.Elements, request.Seed),
            Epochs = request.Epochs,
            BatchSize = request.BatchSize,
            LearningRate = request.LearningRate,
            Augmentation = request.NoAugmentation ? AugmentationOptions.None : AugmentationOptions.Default,
            Distillation = request.Distill switch
            {
                "logits" => DistillationOptions.Logits(),
                "features" => DistillationOptions.Features(),
                _ => null,
            },
            ValidationSet = prefix.Transform(testView),
            ValidationFraction = 0,
            Threads = request.Threads,
            CancellationToken = context.Cancellation,
        };

        using var fitted = TrainingProgressView.Fit(context, ml, options, () => ml.Transforms.InitializeFromTeacher(options).Fit(prefix.Transform(trainView)));
        var model = prefix.Append(fitted);
        var evaluation = ModelEvaluation.Evaluate(ml, model, test);

        string modelZip = Path.Combine(outFolder, "model.zip"), onnx = Path.Combine(outFolder, "student.onnx");
        string weights = Path.Combine(outFolder, "student.safetensors"), specJson = Path.Combine(outFolder, "student.json");
        string reportJson = Path.Combine(outFolder, "selection-report.json");
        using (var outputs = new AtomicOutputs())
        {
            outputs.Add(modelZip, temp => ml.Model.Save(model, trainView.Schema, temp));
            outputs.Add(onnx, temp => fitted.ExportOnnx(temp));
            outputs.Add(weights, temp => fitted.SaveStudentSafetensors(temp));
            // The student was trained on its teacher's input convention; the spec says so, for export-onnx and PyTorch users.
            outputs.Add(specJson, temp => File.WriteAllText(temp, (fitted.StudentSpec with { Input = teacherInput ?? fitted.StudentSpec.Input }).ToJson()));
            if (fitted.SelectionReport is { } report) outputs.Add(reportJson, temp => File.WriteAllText(temp, report.ToJson()));
            outputs.Commit();
        }

        WriteSummary(context.Out, request, fitted, evaluation, weights, modelZip);
        EvaluationTables.Write(context.Out, evaluation);
        context.Out.WriteLine($"Wrote {modelZip}, {onnx}, {weights}, {specJson}" + (fitted.SelectionReport is null ? "." : $", {reportJson}."));
        return ExitCodes.Success;
    }

    static void Check(TrainRequest r)
    {
        if (r.Epochs < 1) throw new CliException($"--epochs must be at least 1; got {r.Epochs}.");
        if (r.BatchSize < 1) throw new CliException($"--batch-size must be at least 1; got {r.BatchSize}.");
        if (!(r.LearningRate > 0) || double.IsInfinity(r.LearningRate)) throw new CliException($"--lr must be positive; got {r.LearningRate}.");
        if (r.ImageSize is < 1) throw new CliException($"--image-size must be positive; got {r.ImageSize}.");
        if (!(r.TestFraction > 0 && r.TestFraction < 1)) throw new CliException($"--test-fraction must lie in (0, 1); got {r.TestFraction}.");
        if (r.Threads is < 1) throw new CliException($"--threads must be at least 1; got {r.Threads}.");
    }

    /// <summary>The teacher, and the input convention the student inherits from it.</summary>
    static (Teacher?, InputConvention?) TeacherFor(TrainRequest request, ModelSpec studentSpec, bool needed)
    {
        if (request.Teacher is null)
        {
            if (needed)
                throw new CliException(request.Init == "selection"
                    ? "--teacher is required for weight selection (or pass --init random for the random-init baseline)."
                    : "--teacher is required for distillation.");
            return (null, null);
        }
        string path = Path.GetFullPath(request.Teacher);
        if (!File.Exists(path)) throw new CliException($"--teacher: no file at '{path}'.");
        if (path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            if (studentSpec.Family != "resnet")
                throw new CliException($"--teacher: an ONNX teacher is imported as a ResNet, but the student is a {studentSpec.Family}.");
            using var import = OnnxResNetImporter.Import(path);
            return (Teacher.FromOnnx(path), import.Input);
        }
        if (request.TeacherArch is null)
            throw new CliException("--teacher-arch is required with a checkpoint teacher (a preset name, a .json file or inline JSON).");
        var teacherSpec = Specs.Resolve(request.TeacherArch, "--teacher-arch");
        if (teacherSpec.Family != studentSpec.Family)
            throw new CliException($"The teacher is a {teacherSpec.Family} but the student a {studentSpec.Family}; weight selection needs one family.");
        return (Teacher.FromFile(path, teacherSpec), teacherSpec.Input);
    }

    static void WriteSummary(IAnsiConsole console, TrainRequest request, WeightSelectionTransformer fitted, EvaluationResult evaluation,
        string weights, string modelZip)
    {
        long parameters;
        using (var file = SafeTensorsFile.Open(weights))
            parameters = file.Keys.Where(k => !CheckpointSummary.IsBuffer(k)).Sum(k => file.GetInfo(k).ElementCount);
        var history = fitted.History;
        var table = Tables.Create("", "value").RightAligned(1);
        table.AddTextRow("student", $"{fitted.StudentSpec.Family}, {fitted.StudentSpec.ImageSize} px, {Format.Short(parameters)} parameters");
        table.AddTextRow("initialization", request.Init == "selection" ? "weight selection" : "random");
        table.AddTextRow("distillation", request.Distill);
        table.AddTextRow("epochs", $"{history.Count} (best {fitted.Training.BestEpoch})");
        table.AddTextRow("final train loss", Format.Number(history[^1].TrainLoss));
        table.AddTextRow("test accuracy", Format.Percent(evaluation.Accuracy));
        table.AddTextRow("test top-5", evaluation.Top5 is { } top5 ? Format.Percent(top5) : "-");
        table.AddTextRow("test log-loss", Format.Number(evaluation.LogLoss));
        table.AddTextRow("training time", history[^1].Elapsed.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture));
        table.AddTextRow("images/s", Format.Number(history.Average(h => h.ImagesPerSecond), "0"));
        table.AddTextRow("model.zip", Format.Bytes(new FileInfo(modelZip).Length));
        console.Write(table);
    }
}

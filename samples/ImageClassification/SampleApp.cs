using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using MLNet.WeightSelection;
using MLNet.WeightSelection.Training;
using Spectre.Console;

namespace ImageClassification;

/// <summary>One trained student and its figures.</summary>
/// <param name="Name">"weight selection" or "random init".</param>
/// <param name="History">Per-epoch training metrics (validation on the held-out share of the training images).</param>
/// <param name="TestAccuracy">Top-1 accuracy on the test images (fraction).</param>
/// <param name="TestTop5">Top-5 accuracy on the test images (fraction).</param>
/// <param name="TestLogLoss">Log-loss on the test images.</param>
/// <param name="TrainingTime">Wall time of <c>Fit</c>: reading the images, adapting the teacher, selecting weights, training, ONNX export.</param>
/// <param name="Cost">Parameters and MFLOPs per image.</param>
/// <param name="ModelZipBytes">Size of the saved ML.NET model (model.zip).</param>
/// <param name="Recipe">What the fitted recipe chose: image size, teacher adaptation, distillation, EMA.</param>
public sealed record RunResult(string Name, IReadOnlyList<EpochMetrics> History, double TestAccuracy, double TestTop5, double TestLogLoss,
    TimeSpan TrainingTime, ModelCost Cost, long ModelZipBytes, RunRecipe Recipe);

/// <summary>What a sample run produced.</summary>
public sealed record SampleReport(RunResult WeightSelection, RunResult RandomInit, string ModelZip, string StudentOnnx, string Plot,
    string ResultsJson, ModelInput PredictedImage, ModelOutput Prediction, TimeSpan TotalTime);

/// <summary>
/// The main job: trains a student initialized by weight selection and one from random init with the same recipe and
/// seed, compares them on the test images, saves model.zip, student.onnx and the accuracy curves, and classifies
/// one test image with the saved model.
/// </summary>
public static class SampleApp
{
    /// <summary>Run names, in order.</summary>
    public static readonly string[] RunNames = { "weight selection", "random init" };

    /// <summary>Runs the sample.</summary>
    /// <param name="options">Parsed options.</param>
    /// <param name="console">Where progress and results go.</param>
    /// <param name="live">Draw live progress bars (a terminal); otherwise one line per epoch.</param>
    public static SampleReport Run(SampleOptions options, IAnsiConsole console, bool live)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(console);
        var total = Stopwatch.StartNew();
        string dataFolder = options.DataDirectory ?? SampleOptions.FindBundledData()
            ?? throw new DirectoryNotFoundException("The bundled data set data/fashion-mnist-mini was not found above the app's folder; pass --data <folder>.");
        string teacherPath = options.TeacherCheckpoint ?? SampleOptions.BundledTeacher;
        if (!File.Exists(teacherPath)) throw new FileNotFoundException($"Teacher checkpoint {teacherPath} does not exist.", teacherPath);
        string outputDirectory = Path.GetFullPath(options.OutputDirectory);
        var distillation = options.Distill switch
        {
            DistillMode.None => DistillationOptions.Off,
            DistillMode.Logits => DistillationOptions.Logits(),
            DistillMode.Features => DistillationOptions.Features(),
            _ => null,
        };
        var teacherAdaptation = options.NoAdaptTeacher ? TeacherAdaptationOptions.Off : null;

        var ml = new MLContext(seed: options.Seed);
        var data = Workflow.LoadData(ml, dataFolder, options.Seed);
        var teacher = Workflow.CreateTeacher(teacherPath, options.TeacherArchitecture);
        console.WriteLine(FormattableString.Invariant(
            $"Data     {data.Folder.Root}: {data.Folder.Train.Count} training and {data.Folder.Test.Count} test images, {data.Folder.Classes.Count} classes") +
            (data.Folder.TestWasSplit ? FormattableString.Invariant($" (no test/ folder: {SampleOptions.TestFraction:P0} of each class held out as test)") : ""));
        console.WriteLine($"Teacher  {teacher.Description}");
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Student  {options.Student} at {(options.ImageSize is { } side ? $"{side}x{side} px" : "a fitted image size")}, {options.Epochs} epoch{(options.Epochs == 1 ? "" : "s")}, seed {options.Seed}, " +
            $"distillation {options.Distill.ToString().ToLowerInvariant()}, teacher adaptation {(options.NoAdaptTeacher ? "off" : "fitted")}, " +
            $"{Environment.ProcessorCount} cores; the rest fitted to the data"));
        console.WriteLine();

        var initializations = new[] { Initialization.WeightSelection, Initialization.Random };
        var board = new ProgressBoard(console, live);
        var fitted = board.Show(RunNames, rows =>
        {
            var models = new List<(Microsoft.ML.Data.TransformerChain<Microsoft.ML.Transforms.KeyToValueMappingTransformer> Model, TimeSpan Time)>();
            for (int i = 0; i < initializations.Length; i++)
            {
                var row = rows[i];
                row.Status("reading images and fitting the recipe");
                var watch = Stopwatch.StartNew();
                var model = Workflow.TrainStudent(ml, data.TrainData, teacher, options.Student, initializations[i], options.ImageSize,
                    options.Epochs, options.Seed, distillation, teacherAdaptation, row.Recipe, row.TeacherEpoch, row.Epoch);
                watch.Stop();
                var history = model.OfType<WeightSelectionTransformer>().Single().History;
                row.Done(string.Create(CultureInfo.InvariantCulture,
                    $"done in {watch.Elapsed:m\\:ss}: final val acc {history[^1].ValidationAccuracy * 100:F1}%"));
                models.Add((model, watch.Elapsed));
            }
            return models;
        });

        try
        {
            var results = new List<RunResult>();
            for (int i = 0; i < fitted.Count; i++)
            {
                var (model, time) = fitted[i];
                var student = model.OfType<WeightSelectionTransformer>().Single();
                var metrics = Workflow.Evaluate(ml, model, data.TestData, data.Folder);
                using var zip = new MemoryStream();
                ml.Model.Save(model, data.TrainData.Schema, zip);
                results.Add(new RunResult(RunNames[i], student.History, metrics.MicroAccuracy, metrics.TopKAccuracy, metrics.LogLoss,
                    time, ModelCost.Of(student.StudentSpec), zip.Length, RunRecipe.Of(student)));
            }

            var (modelZip, studentOnnx) = Workflow.Save(ml, fitted[0].Model, data.TrainData, outputDirectory);
            string plot = Workflow.PlotCurves(outputDirectory, options.Student, data.Folder,
                results.Select(r => (r.Name, r.History)).ToList());
            string resultsJson = Path.Combine(outputDirectory, "results.json");
            OutputFile.Write(resultsJson, stream => JsonSerializer.Serialize(stream, ResultsDocument(options, data.Folder, results),
                new JsonSerializerOptions { WriteIndented = true }));

            console.WriteLine();
            foreach (var result in results)
                console.WriteLine($"Recipe   {result.Name}: {result.Recipe.Summary}");
            console.WriteLine();
            console.Write(ResultsTable.Create(results));
            console.WriteLine();
            console.WriteLine($"Saved    {modelZip}");
            console.WriteLine($"         {studentOnnx}");
            console.WriteLine($"         {plot}");
            console.WriteLine($"         {resultsJson}");
            console.WriteLine();

            var image = data.Folder.Test[0];
            var (prediction, top3) = Workflow.PredictOne(modelZip, image);
            console.WriteLine($"Predict  {image.ImagePath} (true label: {image.Label})");
            console.WriteLine(FormattableString.Invariant(
                $"         predicted {prediction.PredictedLabel} with score {prediction.Score.Max():F3}; top 3: ") +
                string.Join(", ", top3.Select(p => FormattableString.Invariant($"{p.Key} {p.Value:F3}"))));
            total.Stop();
            console.WriteLine();
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Total time {total.Elapsed:m\\:ss} on {Environment.ProcessorCount} cores."));
            return new SampleReport(results[0], results[1], modelZip, studentOnnx, plot, resultsJson, image, prediction, total.Elapsed);
        }
        finally
        {
            foreach (var (model, _) in fitted)
            {
                foreach (var disposable in model.OfType<IDisposable>()) disposable.Dispose();
            }
        }
    }

    static object ResultsDocument(SampleOptions options, ImageFolder folder, IReadOnlyList<RunResult> results) => new
    {
        command = new
        {
            data = folder.Root,
            options.Student,
            options.Epochs,
            options.ImageSize,
            distill = options.Distill.ToString().ToLowerInvariant(),
            options.NoAdaptTeacher,
            options.Seed,
            cores = Environment.ProcessorCount,
        },
        trainImages = folder.Train.Count,
        testImages = folder.Test.Count,
        runs = results.Select(r => new
        {
            r.Name,
            r.TestAccuracy,
            r.TestTop5,
            r.TestLogLoss,
            trainingSeconds = r.TrainingTime.TotalSeconds,
            r.Cost.Parameters,
            r.Cost.MegaFlops,
            r.ModelZipBytes,
            recipe = new
            {
                r.Recipe.ImageSize,
                r.Recipe.Summary,
                teacherAdaptationEpochs = r.Recipe.AdaptationEpochs,
                teacherAdaptationSeconds = r.Recipe.AdaptationTime?.TotalSeconds,
                r.Recipe.Distillation,
                r.Recipe.EmaOn,
                r.Recipe.KeptEma,
                choices = r.Recipe.Choices.Select(c => new { c.Name, c.Value, c.WasSet, c.Reason }),
            },
            history = r.History.Select(m => new
            {
                m.Epoch, m.TrainLoss, m.ValidationAccuracy, m.ValidationTop5, m.ValidationLoss, m.LearningRate, m.ImagesPerSecond,
                elapsedSeconds = m.Elapsed.TotalSeconds,
            }),
        }),
    };
}

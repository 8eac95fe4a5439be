using System.Text.Json;
using ImageClassification;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SkiaSharp;
using Xunit;

namespace MLNet.WeightSelection.Tests.Samples;

/// <summary>
/// The whole sample, in-process, on a tiny ImageFolder (16-px PNGs) with a tiny ResNet teacher checkpoint and one epoch
/// (the fitted teacher adaptation then takes one epoch too).
/// Runs alone: training seeds libtorch's process-wide generator.
/// </summary>
[Collection("GlobalTorchState")]
public class SampleEndToEndTests
{
    [Fact]
    public void The_sample_trains_both_students_and_writes_files_that_load()
    {
        string data = SampleFixtures.ImageFolder(trainPerClass: 10, testPerClass: 2);
        string teacher = SampleFixtures.TeacherCheckpoint();
        string output = Path.Combine(TestPaths.NewTempDirectory(), "out");
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int code = SampleCommandLine.Run(new[]
        {
            "--data", data, "--teacher", teacher, "--teacher-arch", SampleFixtures.TeacherSpec, "--student", SampleFixtures.StudentSpec,
            "--epochs", "1", "--image-size", "16", "--out", output, "--seed", "3",
        }, stdout, stderr, interactive: false);

        string log = stdout.ToString();
        Assert.True(code == SampleCommandLine.Success, $"exit code {code}: {stderr}\n{log}");
        Assert.Equal("", stderr.ToString());

        // Plain progress lines (stdout is not a terminal): the fitted totals, the teacher's adaptation for weight selection only.
        Assert.Contains("[weight selection] recipe fitted: teacher adaptation 1 epoch, then 1 student epoch", log);
        Assert.Contains("[weight selection] adapting the teacher: epoch 1/1  loss ", log);
        Assert.Contains("[weight selection] epoch 1/1  loss ", log);
        Assert.Contains("[random init] recipe fitted: 1 student epoch", log);
        Assert.DoesNotContain("[random init] adapting the teacher", log);
        Assert.Contains("[random init] epoch 1/1  loss ", log);
        // Each run's recipe line, the table and the prediction.
        Assert.Contains("Recipe   weight selection: Recipe for 27 training images of 3 classes at 16 px: ", log);
        Assert.Contains("Recipe   random init: Recipe for 27 training images of 3 classes at 16 px: ", log);
        Assert.Contains("Test results", log);
        Assert.Contains("MFLOPs per image", log);
        foreach (var row in new[] { "Image size", "Teacher adaptation", "Distillation", "Weights kept" })
            Assert.Contains(row, log);
        Assert.Contains("Predict  ", log);
        Assert.False(log.Contains('\u001b', StringComparison.Ordinal), "plain output has no ANSI escape codes");

        Assert.Equal(new[] { "accuracy.png", "model.zip", "results.json", "student.onnx" },
            Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        // model.zip loads and classifies through Model Builder-style consumption.
        using (var mlModel = new MLModel(Path.Combine(output, "model.zip")))
        {
            var image = Directory.GetFiles(Path.Combine(data, "test", "cross")).First();
            var prediction = mlModel.Predict(new ModelInput { ImagePath = image });
            Assert.Contains(prediction.PredictedLabel, SampleFixtures.Classes);
            Assert.Equal(3, prediction.Score.Length);
            Assert.Equal(1.0, prediction.Score.Sum(), 4);
            var sorted = mlModel.GetSortedScoresWithLabels(prediction).ToList();
            Assert.Equal(SampleFixtures.Classes, sorted.Select(p => p.Key).Order(StringComparer.Ordinal));
            Assert.Equal(prediction.PredictedLabel, sorted[0].Key);
        }

        // model.zip also evaluates as a plain ML.NET model.
        var ml = new MLContext(seed: 1);
        var model = ml.Model.Load(Path.Combine(output, "model.zip"), out _);
        var test = ml.Data.LoadFromEnumerable(ImageFolder.Load(data, 0.2, 1).Test);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
        Assert.InRange(metrics.MicroAccuracy, 0, 1);

        // student.onnx: raw pixels in, one probability per class out.
        using (var session = new InferenceSession(Path.Combine(output, "student.onnx")))
        {
            var input = session.InputMetadata.Single();
            Assert.Equal(new[] { 3, 16, 16 }, input.Value.Dimensions.Skip(1));
            var pixels = new DenseTensor<float>(Enumerable.Repeat(128f, 3 * 16 * 16).ToArray(), new[] { 1, 3, 16, 16 });
            using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(input.Key, pixels) });
            var probabilities = results.First().AsTensor<float>();
            Assert.Equal(new[] { 1, 3 }, probabilities.Dimensions.ToArray());
            Assert.Equal(1.0, probabilities.Sum(), 4);
        }

        // The accuracy plot is a real PNG of the chosen size.
        byte[] png = File.ReadAllBytes(Path.Combine(output, "accuracy.png"));
        using (var bitmap = SKBitmap.Decode(png))
        {
            Assert.NotNull(bitmap);
            Assert.Equal((800, 500), (bitmap.Width, bitmap.Height));
        }

        // results.json holds both runs with their one epoch.
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "results.json")));
        var runs = json.RootElement.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(new[] { "weight selection", "random init" }, runs.Select(r => r.GetProperty("Name").GetString()));
        Assert.All(runs, r => Assert.Equal(1, r.GetProperty("history").GetArrayLength()));
        Assert.All(runs, r => Assert.True(r.GetProperty("Parameters").GetInt64() > 0));
        Assert.Equal(30, json.RootElement.GetProperty("trainImages").GetInt32());

        // ... and each run's recipe: adaptation and distillation for weight selection only; the epochs and size as set.
        var selected = runs[0].GetProperty("recipe");
        var random = runs[1].GetProperty("recipe");
        Assert.Equal(16, selected.GetProperty("ImageSize").GetInt32());
        Assert.Equal(1, selected.GetProperty("teacherAdaptationEpochs").GetInt32());
        Assert.True(selected.GetProperty("teacherAdaptationSeconds").GetDouble() > 0);
        Assert.StartsWith("Logits", selected.GetProperty("Distillation").GetString());
        Assert.Equal(JsonValueKind.Null, random.GetProperty("teacherAdaptationEpochs").ValueKind);
        Assert.Equal("off", random.GetProperty("Distillation").GetString());
        static JsonElement Choice(JsonElement recipe, string name) =>
            recipe.GetProperty("choices").EnumerateArray().Single(c => c.GetProperty("Name").GetString() == name);
        Assert.True(Choice(selected, "Epochs").GetProperty("WasSet").GetBoolean());
        Assert.Equal("1", Choice(selected, "Epochs").GetProperty("Value").GetString());
        Assert.False(Choice(selected, "BatchSize").GetProperty("WasSet").GetBoolean());
        Assert.NotEqual("", Choice(selected, "BatchSize").GetProperty("Reason").GetString());
        Assert.Equal(6, json.RootElement.GetProperty("testImages").GetInt32());
    }

    [Fact]
    public void A_failing_run_prints_one_line_and_leaves_no_files()
    {
        string data = SampleFixtures.ImageFolder(trainPerClass: 5, testPerClass: 1);
        string teacher = SampleFixtures.TeacherCheckpoint();
        string output = Path.Combine(TestPaths.NewTempDirectory(), "out");
        var stderr = new StringWriter();

        // The tiny teacher's classifier has 5 classes, the data 3: without adaptation, logit distillation cannot work.
        int code = SampleCommandLine.Run(new[]
        {
            "--data", data, "--teacher", teacher, "--teacher-arch", SampleFixtures.TeacherSpec, "--student", SampleFixtures.StudentSpec,
            "--epochs", "1", "--image-size", "16", "--out", output, "--distill", "logits", "--no-adapt-teacher",
        }, new StringWriter(), stderr, interactive: false);

        Assert.Equal(SampleCommandLine.RunFailed, code);
        string error = stderr.ToString();
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Logit distillation needs a teacher whose classifier has the label's 3 classes", error);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any());
    }
}

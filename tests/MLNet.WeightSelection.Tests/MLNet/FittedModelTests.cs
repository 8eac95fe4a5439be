using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.WeightSelection.Checkpoints;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>What the fitted model adds, and that ML.NET's own tools work on it.</summary>
[Collection(nameof(MLNetFits))]
public class FittedModelTests
{
    readonly FittedModelFixture _f;

    public FittedModelTests(FittedModelFixture fixture) => _f = fixture;

    static string[] Kinds(DataViewSchema.Column column) => column.Annotations.Schema.Select(c => c.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray();

    [Fact]
    public void Score_and_PredictedLabel_have_the_types_and_annotations_of_a_multiclass_trainer()
    {
        var scored = _f.Transformer.Transform(_f.Keyed);
        var score = scored.Schema["Score"];
        var predicted = scored.Schema["PredictedLabel"];

        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 3), score.Type);
        Assert.Equal(_f.Keyed.Schema["Label"].Type, predicted.Type);

        // The same annotation kinds a real multiclass trainer puts on its columns.
        var reference = _f.Ml.Transforms.Conversion.MapKeyToVector("OneHot", "Label")
            .Append(_f.Ml.MulticlassClassification.Trainers.NaiveBayes("Label", "OneHot")).Fit(_f.Keyed).Transform(_f.Keyed);
        Assert.Equal(Kinds(reference.Schema["Score"]), Kinds(score));
        Assert.Equal(Kinds(reference.Schema["PredictedLabel"]), Kinds(predicted));

        VBuffer<ReadOnlyMemory<char>> names = default;
        score.GetSlotNames(ref names);
        Assert.Equal(TestImages.ColourNames, names.DenseValues().Select(n => n.ToString()));
        ReadOnlyMemory<char> kind = default;
        score.Annotations.GetValue("ScoreColumnKind", ref kind);
        Assert.Equal("MulticlassClassification", kind.ToString());
        predicted.GetKeyValues(ref names);
        Assert.Equal(TestImages.ColourNames, names.DenseValues().Select(n => n.ToString()));

        var scores = scored.GetColumn<float[]>("Score").ToArray();
        var keys = scored.GetColumn<uint>("PredictedLabel").ToArray();
        Assert.Equal(_f.Rows.Count, scores.Length);
        for (int i = 0; i < scores.Length; i++)
        {
            Assert.Equal(1.0, scores[i].Sum(), 4);
            Assert.Equal((uint)(Array.IndexOf(scores[i], scores[i].Max()) + 1), keys[i]);
        }
    }

    [Fact]
    public void Estimator_output_schema_matches_the_fitted_output()
    {
        var shape = _f.Ml.Transforms.InitializeFromTeacher(_f.Options).GetOutputSchema(Shapes.Of(_f.Keyed.Schema));
        var score = shape.Single(c => c.Name == "Score");
        var predicted = shape.Single(c => c.Name == "PredictedLabel");
        Assert.Equal(SchemaShape.Column.VectorKind.Vector, score.Kind);
        Assert.Equal(NumberDataViewType.Single, score.ItemType);
        Assert.Contains(score.Annotations, a => a.Name == "ScoreColumnKind");
        Assert.Contains(score.Annotations, a => a.Name == "SlotNames");
        Assert.True(predicted.IsKey);
        Assert.Contains(predicted.Annotations, a => a.Name == "KeyValues");
        var fitted = _f.Transformer.GetOutputSchema(_f.Keyed.Schema);
        Assert.All(shape, c => Assert.NotNull(fitted.GetColumnOrNull(c.Name)));
    }

    [Fact]
    public void MulticlassClassification_Evaluate_agrees_with_the_predictions()
    {
        var scored = _f.Transformer.Transform(_f.Keyed);
        var metrics = _f.Ml.MulticlassClassification.Evaluate(scored);
        var labels = scored.GetColumn<uint>("Label").ToArray();
        var predicted = scored.GetColumn<uint>("PredictedLabel").ToArray();
        double accuracy = labels.Zip(predicted).Count(p => p.First == p.Second) / (double)labels.Length;
        Assert.Equal(accuracy, metrics.MicroAccuracy, 6);
        Assert.True(double.IsFinite(metrics.LogLoss));
        Assert.Equal(3, metrics.ConfusionMatrix.NumberOfClasses);

        // Also after MapKeyToValue("PredictedLabel"), as the documented pipeline ends.
        var named = _f.Model.Transform(_f.Data);
        Assert.Equal(metrics.MicroAccuracy, _f.Ml.MulticlassClassification.Evaluate(_f.Ml.Transforms.Conversion.MapValueToKey("Label").Fit(named).Transform(named)).MicroAccuracy, 6);
    }

    sealed class Prediction
    {
        public float[] Score { get; set; } = Array.Empty<float>();
        public string PredictedLabel { get; set; } = "";
    }

    [Fact]
    public void PredictionEngine_scores_like_Transform()
    {
        // The engine must not own (and on disposal dispose) the model the other tests share.
        using var engine = _f.Ml.Model.CreatePredictionEngine<TestImages.Row, Prediction>(_f.Model, new PredictionEngineOptions { OwnsTransformer = false });
        var batch = _f.Model.Transform(_f.Data);
        var scores = batch.GetColumn<float[]>("Score").ToArray();
        var names = batch.GetColumn<string>("PredictedLabel").ToArray();
        for (int i = 0; i < 4; i++)
        {
            var p = engine.Predict(_f.Rows[i]);
            Assert.Equal(scores[i], p.Score);
            Assert.Equal(names[i], p.PredictedLabel);
            Assert.Contains(p.PredictedLabel, TestImages.ColourNames);
        }
    }

    [Fact]
    public void History_metrics_callback_and_selection_report_describe_the_fit()
    {
        Assert.Equal(2, _f.Transformer.History.Count);
        Assert.Equal(_f.Transformer.History.Select(m => m.Epoch), _f.Epochs.Select(m => m.Epoch));
        Assert.All(_f.Transformer.History, m => Assert.InRange(m.ValidationAccuracy, 0, 1));
        var report = Assert.IsType<WeightSelection.Selection.SelectionReport>(_f.Transformer.SelectionReport);
        Assert.Null(report.Row("fc.weight").TeacherKey);
        Assert.Equal("conv1.weight", report.Row("conv1.weight").TeacherKey);
        Assert.Equal(new long[] { 8, 3, 7, 7 }, report.Row("conv1.weight").StudentShape);
        Assert.Equal(0, _f.Transformer.SkippedImages);
    }

    [Fact]
    public void Progress_and_epoch_metrics_reach_the_MLContext_log()
    {
        List<(string Source, string Message)> log;
        lock (_f.Log) log = _f.Log.ToList();
        Assert.Contains(log, m => m.Source.StartsWith("InitializeFromTeacher", StringComparison.Ordinal) && m.Message.Contains("Selected the student's weights from"));
        Assert.Contains(log, m => m.Source.StartsWith("InitializeFromTeacher", StringComparison.Ordinal) && m.Message.Contains("epoch 2: train loss"));
        Assert.Single(log, m => m.Message.Contains("epoch 1: train loss", StringComparison.Ordinal)); // once, not from both the trainer and the estimator
    }

    [Fact]
    public void Student_saves_as_timm_named_safetensors_that_load_strictly()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "student.safetensors");
        _f.Transformer.SaveStudentSafetensors(path);
        using var saved = Checkpoint.Open(path);
        Assert.Contains("layer4.0.bn2.running_var", saved.Keys);
        Assert.Equal(new long[] { 3, 64 }, saved.GetInfo("fc.weight").Shape);
        using var reloaded = _f.Transformer.StudentSpec.CreateModel();
        var result = reloaded.LoadStateDict(saved, strict: true);
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
    }

    [Fact]
    public void Exported_onnx_gives_the_Score_probabilities()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "student.onnx");
        _f.Transformer.ExportOnnx(path);
        using var session = new InferenceSession(path);
        Assert.Equal(new[] { 3, 32, 32 }, session.InputMetadata["input"].Dimensions.Skip(1));

        var pixels = _f.Ml.Transforms.ResizeImages("Resized", 32, 32, "Image")
            .Append(_f.Ml.Transforms.ExtractPixels("Pixels", "Resized")).Fit(_f.Keyed).Transform(_f.Keyed)
            .GetColumn<float[]>("Pixels").First();
        var input = new DenseTensor<float>(pixels, new[] { 1, 3, 32, 32 });
        using var outputs = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input", input) });
        var probabilities = outputs.First(o => o.Name == "probabilities").AsEnumerable<float>().ToArray();
        var score = _f.Transformer.Transform(_f.Keyed).GetColumn<float[]>("Score").First();
        for (int c = 0; c < 3; c++) Assert.Equal(score[c], probabilities[c], 5);
    }

    [Fact]
    public void Saved_model_loads_and_scores_the_same_in_process()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "model.zip");
        _f.Ml.Model.Save(_f.Model, _f.Data.Schema, path);
        var loaded = new MLContext(seed: 5).Model.Load(path, out _);
        var expected = _f.Model.Transform(_f.Data);
        var actual = loaded.Transform(_f.Data);
        Assert.Equal(expected.GetColumn<float[]>("Score"), actual.GetColumn<float[]>("Score"));
        Assert.Equal(expected.GetColumn<string>("PredictedLabel"), actual.GetColumn<string>("PredictedLabel"));
    }

    [Fact]
    public void Saved_model_loads_with_batched_scoring_scores_the_same_and_saves_back_plain()
    {
        string dir = TestPaths.NewTempDirectory();
        string path = Path.Combine(dir, "model.zip");
        _f.Ml.Model.Save(_f.Model, _f.Data.Schema, path);
        var ml = new MLContext(seed: 5);
        var plain = ml.Model.Load(path, out _);
        var batched = ml.Model.LoadWithBatchedScoring(path, out var schema);
        Assert.Equal(_f.Data.Schema.Select(c => c.Name), schema.Select(c => c.Name));
        Assert.Contains(Flatten(batched), t => t.GetType().Name == "BatchedScoringTransformer");
        Assert.DoesNotContain(Flatten(plain), t => t.GetType().Name == "BatchedScoringTransformer");

        var expected = plain.Transform(_f.Data);
        var actual = batched.Transform(_f.Data);
        Assert.Equal(expected.Schema.Select(c => (c.Name, c.Type.ToString())), actual.Schema.Select(c => (c.Name, c.Type.ToString())));
        var want = expected.GetColumn<float[]>("Score").ToArray();
        var got = actual.GetColumn<float[]>("Score").ToArray();
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.Equal(want[i], got[i], (a, b) => Math.Abs(a - b) < 1e-6f);
        Assert.Equal(expected.GetColumn<string>("PredictedLabel"), actual.GetColumn<string>("PredictedLabel"));

        // Saving the batched model writes ML.NET's built-in parts again: a plain Load reads it and scores the same.
        string again = Path.Combine(dir, "again.zip");
        ml.Model.Save(batched, schema, again);
        var reloaded = new MLContext(seed: 6).Model.Load(again, out _);
        Assert.DoesNotContain(Flatten(reloaded), t => t.GetType().Name == "BatchedScoringTransformer");
        Assert.Equal(want, reloaded.Transform(_f.Data).GetColumn<float[]>("Score").ToArray());
    }

    [Fact]
    public void A_model_saved_on_an_image_column_loads_with_batched_scoring()
    {
        // Saved on in-memory images: ML.NET cannot write the image type into the saved schema, so the chain is found by its parts.
        string path = Path.Combine(TestPaths.NewTempDirectory(), "on-images.zip");
        _f.Ml.Model.Save(_f.Transformer, _f.Keyed.Schema, path);
        var batched = new MLContext(seed: 5).Model.LoadWithBatchedScoring(path, out var schema);
        Assert.Null(schema.GetColumnOrNull("Image"));
        Assert.Contains(Flatten(batched), t => t.GetType().Name == "BatchedScoringTransformer");
        var want = _f.Transformer.ScoringModel.Transform(_f.Keyed).GetColumn<float[]>("Score").ToArray();
        var got = batched.Transform(_f.Keyed).GetColumn<float[]>("Score").ToArray();
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.Equal(want[i], got[i], (a, b) => Math.Abs(a - b) < 1e-6f);
    }

    [Fact]
    public void A_model_without_a_student_loads_unchanged_with_batched_scoring()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "keys.zip");
        var keys = _f.Ml.Transforms.Conversion.MapValueToKey("Label").Fit(_f.Data);
        _f.Ml.Model.Save(keys, _f.Data.Schema, path);
        var loaded = new MLContext(seed: 5).Model.LoadWithBatchedScoring(path, out _);
        Assert.DoesNotContain(Flatten(loaded), t => t.GetType().Name == "BatchedScoringTransformer");
        Assert.Equal(3, loaded.Transform(_f.Data).GetColumn<uint>("Label").Distinct().Count());
    }

    static IEnumerable<ITransformer> Flatten(ITransformer model) =>
        model is TransformerChain<ITransformer> chain ? chain.SelectMany(Flatten).Prepend(model) : new[] { model };
}

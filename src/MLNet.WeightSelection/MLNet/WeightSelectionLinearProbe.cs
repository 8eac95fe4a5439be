using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.WeightSelection.MLNet;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Selection;
using MLNet.WeightSelection.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection;

/// <summary>What a linear probe measured.</summary>
/// <param name="Metrics">ML.NET's multiclass metrics of the linear classifier on the test data.</param>
/// <param name="FeatureCount">Width of the student's pooled features.</param>
/// <param name="SelectionReport">How the student was initialized from the teacher; null for random initialization.</param>
public sealed record LinearProbeResult(MulticlassClassificationMetrics Metrics, int FeatureCount, SelectionReport? SelectionReport)
{
    /// <summary>Top-1 accuracy on the test data (<see cref="MulticlassClassificationMetrics.MicroAccuracy"/>).</summary>
    public double Accuracy => Metrics.MicroAccuracy;
}

/// <summary>
/// Linear probing (the paper's Table 9): how good an initialization is, without training the network. The student is
/// initialized (by weight selection, or randomly for the baseline) and frozen; its pooled pre-logits features feed
/// ML.NET's <c>LbfgsMaximumEntropy</c> (after mean-variance normalization), trained on <c>trainData</c> and scored on
/// <c>testData</c>.
/// </summary>
public static class WeightSelectionLinearProbe
{
    const string Features = "Features";

    /// <summary>Initializes the student of <paramref name="options"/> and measures it by linear probing.</summary>
    /// <param name="mlContext">The context.</param>
    /// <param name="trainData">Data the linear classifier is trained on (the options' image and label columns).</param>
    /// <param name="testData">Held-out data it is evaluated on, with the same columns.</param>
    /// <param name="options">Teacher, student, columns, image size, seed, initialization; the training options are not used.</param>
    public static LinearProbeResult Evaluate(MLContext mlContext, IDataView trainData, IDataView testData, WeightSelectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(trainData);
        ArgumentNullException.ThrowIfNull(testData);
        ArgumentNullException.ThrowIfNull(options);
        var image = ImageColumn.Inspect(trainData.Schema, options.ImageColumnName);
        var label = LabelColumn.Inspect(trainData.Schema, options.LabelColumnName);
        var testLabel = LabelColumn.Inspect(testData.Schema, options.LabelColumnName);
        ImageColumn.Inspect(testData.Schema, options.ImageColumnName);
        if (testLabel.ClassCount != label.ClassCount)
            throw new ArgumentException($"The test data's label has {testLabel.ClassCount} classes but the training data's has {label.ClassCount}; map both with the same MapValueToKey.");
        if (options.Initialization == Initialization.WeightSelection && options.Teacher is null)
            throw new ArgumentException("WeightSelectionOptions.Teacher is required for weight selection (or set Initialization = Initialization.Random).");
        int seed = options.Seed ?? EnvironmentAccess.Seed(mlContext) ?? 0;
        var cancel = options.CancellationToken;

        var architecture = StudentFactory.Architecture(options);
        int imageSize = TrainingRecipe.ImageSize(options.ImageSize, options.ImageSize is null ? SourceImageSide.Measure(trainData, image) : null,
            architecture.ImageSize, architecture.ImageSizeMultiple);
        var spec = StudentFactory.Spec(options, architecture, label.ClassCount, imageSize);
        StudentFactory.CheckWholeHeads(options, spec);
        using var teacher = options.Teacher?.Open();
        using var student = StudentFactory.Create(spec, seed);
        student.Input = teacher?.Input ?? spec.Input;
        SelectionReport? report = null;
        if (options.Initialization == Initialization.WeightSelection)
        {
            var selection = StudentFactory.Selection(options, teacher!.Spec, spec);
            var checkedSelection = selection with { ClassifierKeys = student.ClassifierKeys };
            report = WeightSelector.SelectInto(StudentFactory.CheckSelectable(teacher!, student, checkedSelection), teacher!.Weights, student, checkedSelection);
        }

        var pixels = PixelPipeline.Build(mlContext, image, spec.ImageSize).Steps.Fit(trainData);
        void Ignore(string _) { }
        var (train, _) = ReadData.Read(mlContext, pixels, trainData, image, label, spec.ImageSize, options.SkipUnreadableImages,
            cancel.ThrowIfCancellationRequested, Ignore, "training data", requireTwoClasses: true, options.Threads);
        using (train)
        {
            var (test, _) = ReadData.Read(mlContext, pixels, testData, image, label, spec.ImageSize, options.SkipUnreadableImages,
                cancel.ThrowIfCancellationRequested, Ignore, "test data", requireTwoClasses: false, options.Threads);
            using (test)
            {
                var trainView = LabeledVectors.Create(mlContext, label, FeaturesOf(student, train, options.BatchSize ?? TrainingRecipe.BaseBatchSize, cancel), train.LabelValues, Features);
                var testView = LabeledVectors.Create(mlContext, label, FeaturesOf(student, test, options.BatchSize ?? TrainingRecipe.BaseBatchSize, cancel), test.LabelValues, Features);
                var probe = mlContext.Transforms.NormalizeMeanVariance(Features)
                    .Append(mlContext.MulticlassClassification.Trainers.LbfgsMaximumEntropy(label.Name, Features))
                    .Fit(trainView);
                var metrics = mlContext.MulticlassClassification.Evaluate(probe.Transform(testView), label.Name);
                return new LinearProbeResult(metrics, student.NumFeatures, report);
            }
        }
    }

    /// <summary>The frozen student's pooled pre-logits features of every image, in eval mode without gradients.</summary>
    static List<float[]> FeaturesOf(ImageClassifier student, ImageTensorDataset data, int batchSize, CancellationToken cancel)
    {
        bool wasTraining = student.training;
        student.eval();
        var result = new List<float[]>(data.Count);
        try
        {
            using var _ = no_grad();
            using var aten = Runtime.NativeRuntimePolicy.AtenConvolutions(); // eval-mode forwards use ATen (ImageClassifierTrainer.UseOneDnnConvolutions)
            for (long start = 0; start < data.Count; start += Math.Max(1, batchSize))
            {
                cancel.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                long end = Math.Min(data.Count, start + Math.Max(1, batchSize));
                var batch = data.Range(start, end - start).Images;
                var features = student.ForwardPreLogits(InputNormalization.Apply(batch, student.Input)).to_type(ScalarType.Float32).cpu();
                var flat = features.data<float>().ToArray();
                int width = (int)features.shape[1];
                for (int i = 0; i < end - start; i++) result.Add(flat.AsSpan(i * width, width).ToArray());
            }
            return result;
        }
        finally
        {
            student.train(wasTraining);
        }
    }
}

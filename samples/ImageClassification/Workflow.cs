using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using MLNet.WeightSelection;
using MLNet.WeightSelection.Training;

namespace ImageClassification;

/// <summary>Loaded data: the folder's rows and their IDataViews.</summary>
public sealed record LoadedData(ImageFolder Folder, IDataView TrainData, IDataView TestData);

/// <summary>
/// The sample's steps. Each <c>// &lt;notebook:NAME&gt;</c> region appears word for word in a code cell of
/// ImageClassification.ipynb (a test compares them), so the notebook and the app cannot drift apart.
/// </summary>
public static class Workflow
{
    /// <summary>Reads the ImageFolder (a test split is drawn when it has no test/ folder).</summary>
    public static LoadedData LoadData(MLContext ml, string dataFolder, int seed)
    {
        // <notebook:load-data>
        var folder = ImageFolder.Load(dataFolder, SampleOptions.TestFraction, seed);
        IDataView trainData = ml.Data.LoadFromEnumerable(folder.Train);
        IDataView testData = ml.Data.LoadFromEnumerable(folder.Test);
        // </notebook:load-data>
        return new LoadedData(folder, trainData, testData);
    }

    /// <summary>The teacher: an ONNX ResNet (ML.NET's ImageNet ResNet-18 by default) or a timm checkpoint with its architecture.</summary>
    public static Teacher CreateTeacher(string teacherPath, string? teacherArchitecture)
    {
        // <notebook:teacher>
        Teacher teacher = Path.GetExtension(teacherPath).Equals(".onnx", StringComparison.OrdinalIgnoreCase)
            ? Teacher.FromOnnx(teacherPath)
            : Teacher.FromFile(teacherPath, teacherArchitecture!);
        // </notebook:teacher>
        return teacher;
    }

    /// <summary>Trains one student with the given initialization; everything else is the same recipe.</summary>
    public static TransformerChain<KeyToValueMappingTransformer> TrainStudent(MLContext ml, IDataView trainData, Teacher teacher,
        string student, Initialization initialization, int imageSize, int epochs, int seed, DistillationOptions? distillation,
        Action<EpochMetrics> onEpoch)
    {
        // <notebook:train>
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: "ImagePath"))
            .Append(ml.Transforms.InitializeFromTeacher(new WeightSelectionOptions
            {
                Teacher = teacher,
                Student = student,
                Initialization = initialization,
                ImageSize = imageSize,
                Epochs = epochs,
                Seed = seed,
                Distillation = distillation,
                MetricsCallback = onEpoch,
            }))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        var model = pipeline.Fit(trainData);
        // </notebook:train>
        return model;
    }

    /// <summary>Accuracy, top-5 accuracy (top-K with K &lt; 5 classes) and log-loss on the test images.</summary>
    public static MulticlassClassificationMetrics Evaluate(MLContext ml, ITransformer model, IDataView testData, ImageFolder folder)
    {
        // <notebook:evaluate>
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(testData), topKPredictionCount: Math.Min(5, folder.Classes.Count));
        // </notebook:evaluate>
        return metrics;
    }

    /// <summary>Writes model.zip (ML.NET, scores through ONNX Runtime) and student.onnx (the trained student alone).</summary>
    public static (string ModelZip, string StudentOnnx) Save(MLContext ml, TransformerChain<KeyToValueMappingTransformer> model,
        IDataView trainData, string outputDirectory)
    {
        // <notebook:save>
        string modelZipPath = Path.Combine(outputDirectory, "model.zip");
        string studentOnnxPath = Path.Combine(outputDirectory, "student.onnx");
        OutputFile.Write(modelZipPath, stream => ml.Model.Save(model, trainData.Schema, stream));
        model.OfType<WeightSelectionTransformer>().Single().ExportOnnx(studentOnnxPath);
        // </notebook:save>
        return (modelZipPath, studentOnnxPath);
    }

    /// <summary>Both runs' validation-accuracy curves as a PNG.</summary>
    public static string PlotCurves(string outputDirectory, string student, ImageFolder folder,
        IReadOnlyList<(string Name, IReadOnlyList<EpochMetrics> History)> runs)
    {
        // <notebook:plot>
        string plotPath = Path.Combine(outputDirectory, "accuracy.png");
        AccuracyCurves.SavePng(plotPath, $"{student} on {Path.GetFileName(folder.Root)}: validation accuracy", runs);
        // </notebook:plot>
        return plotPath;
    }

    /// <summary>Classifies one image with the saved model.zip, Model Builder style.</summary>
    public static (ModelOutput Prediction, IReadOnlyList<KeyValuePair<string, float>> Top3) PredictOne(string modelZipPath, ModelInput image)
    {
        // <notebook:predict>
        using var mlModel = new MLModel(modelZipPath);
        ModelOutput prediction = mlModel.Predict(new ModelInput { ImagePath = image.ImagePath });
        var top3 = mlModel.GetSortedScoresWithLabels(prediction).Take(3).ToList();
        // </notebook:predict>
        return (prediction, top3);
    }
}

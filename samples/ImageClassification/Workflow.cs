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

    /// <summary>
    /// Trains one student with the given initialization. What is null is fitted to the data by the library's recipe, the
    /// same rules for both runs; the recipe adapts the teacher and distills from it only when the student is selected from it.
    /// </summary>
    /// <param name="ml">The ML.NET context.</param>
    /// <param name="trainData">Training rows (ImagePath, Label); a tenth is held out for validation.</param>
    /// <param name="teacher">The teacher the student is selected from (and distills from).</param>
    /// <param name="student">The student's architecture.</param>
    /// <param name="initialization">Weight selection or random init.</param>
    /// <param name="imageSize">Side of the training images; null: fitted.</param>
    /// <param name="epochs">The student's passes over the training data.</param>
    /// <param name="seed">Seed of the run.</param>
    /// <param name="distillation">Distillation; null: fitted (logits of the adapted teacher for weight selection).</param>
    /// <param name="teacherAdaptation">Teacher adaptation; null: fitted (on for weight selection), or <see cref="TeacherAdaptationOptions.Off"/>.</param>
    /// <param name="onRecipe">Called once the recipe is fitted, before the teacher is adapted.</param>
    /// <param name="onTeacherEpoch">Called after every epoch of the teacher's adaptation.</param>
    /// <param name="onEpoch">Called after every epoch of the student.</param>
    public static TransformerChain<KeyToValueMappingTransformer> TrainStudent(MLContext ml, IDataView trainData, Teacher teacher,
        string student, Initialization initialization, int? imageSize, int epochs, int seed, DistillationOptions? distillation,
        TeacherAdaptationOptions? teacherAdaptation, Action<FittedRecipe> onRecipe, Action<EpochMetrics> onTeacherEpoch,
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
                ImageSize = imageSize,                  // null: fitted to the images' side
                Epochs = epochs,
                Seed = seed,
                Distillation = distillation,            // null: fitted
                TeacherAdaptation = teacherAdaptation,  // null: fitted, on for weight selection
                RecipeCallback = onRecipe,
                TeacherAdaptationMetricsCallback = onTeacherEpoch,
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

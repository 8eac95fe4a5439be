using MLNet.WeightSelection;
using MLNet.WeightSelection.MLNet;

namespace Microsoft.ML;

/// <summary>
/// <c>mlContext.Transforms.InitializeFromTeacher(...)</c>: weight selection (Xu et al., ICLR 2024) and training of a
/// small image classifier inside an ML.NET pipeline.
/// </summary>
/// <remarks>
/// ML.NET keeps a catalog's environment internal; these methods reach it by reflection (a clear error says so if an
/// ML.NET version ever hides it), so progress, logs, <c>CancelExecution()</c> and GPU settings are the caller's
/// MLContext's. <c>new WeightSelectionEstimator(mlContext, options)</c> is the same estimator without reflection.
/// </remarks>
public static class WeightSelectionCatalog
{
    /// <summary>
    /// Initializes a student from a teacher by weight selection and trains it on the data (see
    /// <see cref="WeightSelectionOptions"/> for every option and its default). The fitted model adds Score and
    /// PredictedLabel like a multiclass trainer.
    /// </summary>
    /// <param name="catalog">The transforms catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="options">Teacher, student, columns and the training recipe.</param>
    public static WeightSelectionEstimator InitializeFromTeacher(this TransformsCatalog catalog, WeightSelectionOptions options) =>
        new(EnvironmentAccess.FromCatalog(catalog), options ?? throw new ArgumentNullException(nameof(options)));

    /// <summary>
    /// Initializes a student from a teacher checkpoint by weight selection and trains it, with the other options at
    /// their defaults (<see cref="WeightSelectionOptions"/>).
    /// </summary>
    /// <param name="catalog">The transforms catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="teacherPath">The teacher's checkpoint (.safetensors, .pt/.pth/.bin, .dat) or, with a .onnx extension, an ONNX ResNet such as ML.NET's ResNet-18.</param>
    /// <param name="teacherArchitecture">The teacher's architecture: preset name, inline JSON or .json path (ignored for ONNX, whose graph gives it).</param>
    /// <param name="studentArchitecture">The student's architecture, of the teacher's family: preset name, inline JSON or .json path.</param>
    /// <param name="labelColumnName">The key-typed label column. Default: "Label".</param>
    /// <param name="imageColumnName">The image column (MLImage, encoded bytes, or planar pixels). Default: "Image".</param>
    /// <param name="epochs">Passes over the training data. Default: null, fitted to the data (<see cref="WeightSelectionOptions.Epochs"/>).</param>
    public static WeightSelectionEstimator InitializeFromTeacher(this TransformsCatalog catalog, string teacherPath, string teacherArchitecture,
        string studentArchitecture, string labelColumnName = "Label", string imageColumnName = "Image", int? epochs = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(teacherPath);
        ArgumentException.ThrowIfNullOrEmpty(studentArchitecture);
        var teacher = string.Equals(Path.GetExtension(teacherPath), ".onnx", StringComparison.OrdinalIgnoreCase)
            ? Teacher.FromOnnx(teacherPath)
            : Teacher.FromFile(teacherPath, teacherArchitecture);
        return catalog.InitializeFromTeacher(new WeightSelectionOptions
        {
            Teacher = teacher,
            Student = studentArchitecture,
            LabelColumnName = labelColumnName,
            ImageColumnName = imageColumnName,
            Epochs = epochs,
        });
    }

    /// <summary>
    /// Loads a model saved with <c>mlContext.Model.Save</c>, like <c>mlContext.Model.Load</c>, and lets each weight-selection
    /// student in it score many rows per ONNX Runtime call in <c>Transform</c>, as the fitted transformer does: several
    /// times the throughput of the row-by-row <c>ApplyOnnxModel</c> on a large data view, with the same values up to float
    /// rounding. A model without such a student loads unchanged. The file stays a model of ML.NET's built-in parts, so
    /// <c>mlContext.Model.Load</c> in an application without this library still reads it.
    /// </summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="filePath">The model.zip written by <c>Model.Save</c>.</param>
    /// <param name="inputSchema">The schema the model was saved with.</param>
    public static ITransformer LoadWithBatchedScoring(this ModelOperationsCatalog catalog, string filePath, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var model = catalog.Load(filePath, out inputSchema);
        using var archive = System.IO.Compression.ZipFile.OpenRead(filePath);
        return SavedStudent.Find(archive) is { } student ? BatchedScoringTransformer.Wrap(model, student) : model;
    }
}

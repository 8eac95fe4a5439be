using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.WeightSelection.Training;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>
/// One pipeline fitted once and shared by the tests that inspect a fitted model: MapValueToKey → LoadImages →
/// InitializeFromTeacher (tiny ResNet teacher from safetensors, half-width student, 32 px, 2 epochs, the teacher as given,
/// no EMA) → MapKeyToValue.
/// </summary>
public sealed class FittedModelFixture : IDisposable
{
    readonly TempFolder _temp = new();

    public FittedModelFixture()
    {
        Folder = _temp.Path;
        Rows = TestImages.Colours(Folder, perClass: 10);
        TeacherPath = TinyModels.SaveTeacher(Folder);
        Ml = new MLContext(seed: 1);
        Ml.Log += (_, e) => { lock (Log) Log.Add((e.Source, e.Message)); };
        Data = Ml.Data.LoadFromEnumerable(Rows);
        Options = new WeightSelectionOptions
        {
            Teacher = Teacher.FromFile(TeacherPath, TinyModels.Teacher()),
            Student = TinyModels.Student(),
            ImageSize = 32,
            Epochs = 2,
            BatchSize = 8,
            Augmentation = AugmentationOptions.None,
            Threads = 1,
            ValidationFraction = 0.2,
            Ema = EmaOptions.Off,
            TeacherAdaptation = TeacherAdaptationOptions.Off,
            MetricsCallback = m => Epochs.Add(m),
        };
        Pipeline = Ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(Ml.Transforms.LoadImages("Image", Folder, "ImagePath"))
            .Append(Ml.Transforms.InitializeFromTeacher(Options))
            .Append(Ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        Model = Pipeline.Fit(Data);
        Transformer = (WeightSelectionTransformer)((IEnumerable<ITransformer>)Model).ElementAt(2);
        Keyed = TestImages.LoadKeyed(Ml, Data, Folder);
    }

    public string Folder { get; }
    public List<TestImages.Row> Rows { get; }
    public string TeacherPath { get; }
    public MLContext Ml { get; }
    public IDataView Data { get; }
    public WeightSelectionOptions Options { get; }
    public List<EpochMetrics> Epochs { get; } = new();

    /// <summary>Every message the MLContext logged during the fit: (source, message).</summary>
    public List<(string Source, string Message)> Log { get; } = new();
    public IEstimator<ITransformer> Pipeline { get; }
    public ITransformer Model { get; }
    public WeightSelectionTransformer Transformer { get; }

    /// <summary>The data with a key label and loaded images: the transformer's own input.</summary>
    public IDataView Keyed { get; }

    public void Dispose()
    {
        Transformer.Dispose();
        _temp.Dispose();
    }
}

using Microsoft.ML.Data;

namespace ImageClassification;

/// <summary>One image: the model's input, as in Model Builder's generated <c>MLModel.consumption.cs</c>.</summary>
public sealed class ModelInput
{
    /// <summary>The class name (the image's folder); may be empty when predicting.</summary>
    [ColumnName("Label")]
    public string Label { get; set; } = "";

    /// <summary>Full path of the image file (PNG, JPEG, ...).</summary>
    [ColumnName("ImagePath")]
    public string ImagePath { get; set; } = "";
}

/// <summary>What the model adds: the predicted class name and one probability per class.</summary>
public sealed class ModelOutput
{
    /// <summary>The most probable class name.</summary>
    [ColumnName("PredictedLabel")]
    public string PredictedLabel { get; set; } = "";

    /// <summary>Class probabilities, in the order of the training label's classes.</summary>
    [ColumnName("Score")]
    public float[] Score { get; set; } = Array.Empty<float>();
}

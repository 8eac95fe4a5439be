using MLNet.WeightSelection.Models;

namespace MLNet.WeightSelection.Checkpoints.Onnx;

/// <summary>Options for <see cref="OnnxResNetImporter.Import(string, OnnxImportOptions?)"/>.</summary>
public sealed class OnnxImportOptions
{
    /// <summary>
    /// An ONNX preprocessing model that prepares raw RGB pixel planes for the network (channel reordering, mean
    /// subtraction, scaling), read with <see cref="OnnxPreprocessing.Read"/> to derive the teacher's input convention.
    /// Default null: when the model sits in ML.NET's DnnImageFeaturizer layout
    /// (<c>ResNet18Onnx/ResNet18.onnx</c> beside <c>ResNetPrepOnnx/ResNetPreprocess.onnx</c>), that preprocessing
    /// model is used.
    /// </summary>
    public string? PreprocessingModelPath { get; set; }

    /// <summary>
    /// The input convention, when known from elsewhere; overrides any preprocessing model. Default null: derived from
    /// the preprocessing model, or timm's ImageNet convention when there is none (the usual convention of
    /// torchvision exports).
    /// </summary>
    public InputConvention? Input { get; set; }
}

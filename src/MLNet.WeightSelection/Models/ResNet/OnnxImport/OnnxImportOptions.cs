using MLNet.WeightSelection.Checkpoints.Onnx;
using MLNet.WeightSelection.Models.Onnx;
using MLNet.WeightSelection.Models;

namespace MLNet.WeightSelection.Models.ResNet;

/// <summary>Options for <see cref="OnnxResNetImporter.Import(string, OnnxImportOptions?)"/>.</summary>
public sealed class OnnxImportOptions
{
    /// <summary>
    /// An ONNX preprocessing model that prepares raw RGB pixel planes for the network (channel reordering, mean
    /// subtraction, scaling), read with <see cref="OnnxPreprocessing.Read"/> to derive the teacher's input convention.
    /// Default null: the graph's own normalization nodes are read when it starts with some (as this library's export
    /// writes them); otherwise, when the model sits in ML.NET's DnnImageFeaturizer layout (<c>ResNet18Onnx/ResNet18.onnx</c>
    /// beside <c>ResNetPrepOnnx/ResNetPreprocess.onnx</c>), that preprocessing model is used.
    /// </summary>
    public string? PreprocessingModelPath { get; set; }

    /// <summary>
    /// The input convention, when known from elsewhere; overrides everything else. Default null: derived from the
    /// preprocessing model or the graph's normalization nodes, or timm's ImageNet convention when there is neither
    /// (the usual convention of torchvision exports; a note then says it was assumed).
    /// </summary>
    public InputConvention? Input { get; set; }
}

namespace MLNet.WeightSelection.Models.Onnx;

/// <summary>Options for <see cref="OnnxExporter"/>. Defaults fit ML.NET's <c>ExtractPixels</c> followed by <c>ApplyOnnxModel</c>.</summary>
public sealed class OnnxExportOptions
{
    /// <summary>
    /// Order of the colour planes the graph's input receives. Default <see cref="ChannelOrder.Rgb"/>: ML.NET's
    /// <c>ExtractPixels</c> with its defaults (<c>orderOfExtraction: ARGB</c>, not interleaved) gives planar R, G, B.
    /// Use <see cref="ChannelOrder.Bgr"/> for <c>orderOfExtraction: ColorsOrder.ABGR</c>. The graph reorders the planes to
    /// the model's own order when they differ.
    /// </summary>
    public ChannelOrder PixelOrder { get; set; } = ChannelOrder.Rgb;

    /// <summary>
    /// The input convention to normalize with inside the graph. Default null: the model's <see cref="ImageClassifier.Input"/>
    /// (a student inherits its teacher's).
    /// </summary>
    public InputConvention? Input { get; set; }

    /// <summary>
    /// Image side (square) written into the input shape. Default null: the spec's <see cref="ModelSpec.ImageSize"/>.
    /// A ViT must be exported at its own image size (its position embeddings fix the grid).
    /// </summary>
    public int? ImageSize { get; set; }

    /// <summary>
    /// Leave height and width symbolic in the input shape (convolutional families only). Default false: fixed sizes let
    /// ML.NET's OnnxTransformer type the input column without a shape dictionary.
    /// </summary>
    public bool DynamicImageSize { get; set; }

    /// <summary>Also output the pooled pre-logits features (for linear probing and feature distillation). Default true.</summary>
    public bool IncludeFeatures { get; set; } = true;

    /// <summary>ONNX opset, 17 (LayerNormalization) to 21. Default 17; from 20 the Gelu operator replaces the erf formula.</summary>
    public int Opset { get; set; } = 17;

    /// <summary>Name of the input: float [N, 3, H, W], raw pixels 0–255. Default "input".</summary>
    public string InputName { get; set; } = "input";

    /// <summary>Name of the class-probability output: float [N, classes], softmax of the logits. Default "probabilities".</summary>
    public string ProbabilitiesName { get; set; } = "probabilities";

    /// <summary>Name of the features output: float [N, features]. Default "features".</summary>
    public string FeaturesName { get; set; } = "features";
}

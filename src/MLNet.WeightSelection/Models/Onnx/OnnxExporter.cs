using System.Globalization;
using Google.Protobuf;
using Onnx;
using TorchSharp;

namespace MLNet.WeightSelection.Models.Onnx;

/// <summary>
/// Exports a trained model of any family with an ONNX graph (ViT, ConvNeXt, ResNet: <see cref="ModelFamily"/>) to a self-contained ONNX graph that scores raw pixels: input
/// float [N, 3, H, W] with values 0–255 in the planar layout of ML.NET's <c>ExtractPixels</c> (dynamic N), the
/// model's input convention (channel order, scale, mean, std) applied inside the graph, and class probabilities
/// (Softmax) out, plus the pooled pre-logits features. The result runs in ONNX Runtime and ML.NET's
/// <c>ApplyOnnxModel</c> without libtorch. The forward pass is the eval one: BatchNorm uses running statistics,
/// dropout and drop path are off.
/// </summary>
public static class OnnxExporter
{
    /// <summary>Lowest opset supported: LayerNormalization appeared in opset 17.</summary>
    public const int MinimumOpset = 17;

    /// <summary>Highest opset supported: the newest whose operators this exporter's forms were checked against.</summary>
    public const int MaximumOpset = 21;

    /// <summary>Writes the ONNX model of <paramref name="model"/> to <paramref name="path"/>, atomically (a temporary file, then a rename).</summary>
    /// <exception cref="ArgumentException">Invalid options (opset, image size, names).</exception>
    /// <exception cref="NotSupportedException">A model family or configuration the exporter does not cover.</exception>
    public static void Export(ImageClassifier model, string path, OnnxExportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var bytes = ExportToBytes(model, options);
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(folder);
        string temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>The ONNX model of <paramref name="model"/> as bytes (a serialized ModelProto).</summary>
    /// <exception cref="ArgumentException">Invalid options (opset, image size, names).</exception>
    /// <exception cref="NotSupportedException">A model family or configuration the exporter does not cover.</exception>
    public static byte[] ExportToBytes(ImageClassifier model, OnnxExportOptions? options = null) => Build(model, options).ToByteArray();

    /// <summary>Builds the ModelProto.</summary>
    internal static ModelProto Build(ImageClassifier model, OnnxExportOptions? options)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new OnnxExportOptions();
        var spec = model.Spec;
        if (options.Opset is < MinimumOpset or > MaximumOpset)
            throw new ArgumentException($"ONNX export writes opsets {MinimumOpset} (LayerNormalization) to {MaximumOpset}; got {options.Opset}.", nameof(options));
        var names = new[] { options.InputName, options.ProbabilitiesName, options.FeaturesName };
        if (names.Any(string.IsNullOrWhiteSpace) || names.Distinct(StringComparer.Ordinal).Count() != names.Length)
            throw new ArgumentException($"Input and output names must be distinct and non-empty; got {string.Join(", ", names.Select(n => $"'{n}'"))}.", nameof(options));
        if (model.NumClasses == 0 && !options.IncludeFeatures)
            throw new ArgumentException("The model has no classifier (0 classes), so it has no probabilities to export; set IncludeFeatures to export its features.", nameof(options));

        int imageSize = options.ImageSize ?? spec.ImageSize;
        var family = ModelFamilies.Get(spec.Family);
        if (imageSize <= 0) throw new ArgumentException($"The image size must be positive; got {imageSize}.", nameof(options));
        if (family.RunsOnlyAtItsImageSize && (imageSize != spec.ImageSize || options.DynamicImageSize))
            throw new ArgumentException($"A {family.Name} model runs only at its own image size ({spec.ImageSize}); got {(options.DynamicImageSize ? "a dynamic size" : imageSize)}.", nameof(options));

        var input = options.Input ?? model.Input;
        using var scope = torch.NewDisposeScope(); // detached views and transposed copies made while writing initializers
        var g = new OnnxGraphBuilder(spec.Family, options.Opset);
        object height = options.DynamicImageSize ? "height" : imageSize, width = options.DynamicImageSize ? "width" : imageSize;
        var x = g.Input(options.InputName, "batch", (long)spec.InChans, height, width);
        x = OnnxNormalization.Add(g, x, input, options.PixelOrder, spec.InChans);

        var weights = new ExportWeights(model, spec.Family);
        var (features, logits) = family.BuildOnnx(g, x, weights, spec);
        if (g.InitializerBytes > int.MaxValue - (64 << 20))
            throw new NotSupportedException($"The model's weights ({g.InitializerBytes >> 20} MB) exceed what one protobuf ONNX file can hold (2 GB).");

        if (logits is not null)
        {
            var probabilities = g.Rename(g.Node("Softmax", "softmax", new[] { logits }, ("axis", -1L)), options.ProbabilitiesName);
            g.Output(probabilities, "batch", (long)model.NumClasses);
        }
        if (options.IncludeFeatures)
            g.Output(g.Rename(features, options.FeaturesName), "batch", (long)model.NumFeatures);

        var metadata = new Dictionary<string, string>
        {
            ["mlnet_ws.family"] = spec.Family,
            ["mlnet_ws.spec"] = spec.ToJson(indented: false),
            ["mlnet_ws.pixel_order"] = options.PixelOrder.ToString(),
            ["mlnet_ws.input_convention"] = Describe(input),
        };
        string doc = $"{spec.Family} exported by MLNet.WeightSelection. Input '{options.InputName}': float [N, {spec.InChans}, {height}, {width}], "
            + $"raw pixels 0-255, planar {options.PixelOrder} (ML.NET ExtractPixels). Normalization inside: {Describe(input)}. "
            + (logits is not null ? $"Output '{options.ProbabilitiesName}': softmax over {model.NumClasses} classes. " : "")
            + (options.IncludeFeatures ? $"Output '{options.FeaturesName}': {model.NumFeatures} pooled pre-logits features." : "");
        return g.ToModel("MLNet.WeightSelection", doc, metadata);
    }

    static string Describe(InputConvention c) => string.Create(CultureInfo.InvariantCulture,
        $"{c.Order}, /{c.Scale}, mean [{string.Join(", ", c.Mean)}], std [{string.Join(", ", c.Std)}]");
}

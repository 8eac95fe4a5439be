using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Checkpoints.Onnx;
using MLNet.WeightSelection.Models.Onnx;
using MLNet.WeightSelection.Models;

namespace MLNet.WeightSelection.Models.ResNet;

/// <summary>
/// A ResNet imported from ONNX: its weights under timm's names, the configuration the graph has, the input convention
/// the teacher expects, and what differs from timm's model (padding, missing classifier). Owns <see cref="Weights"/>.
/// </summary>
public sealed class OnnxResNetImport : IDisposable
{
    readonly IReadOnlyList<(string Layer, Window Onnx)> _trunk;

    internal OnnxResNetImport(string source, StateDict weights, ResNetSpec spec,
        string inputSource, (int H, int W)? imageSize, IReadOnlyList<OnnxPadding> paddings,
        IReadOnlyList<(string Layer, Window Onnx)> trunk, IReadOnlyList<string> notes)
    {
        Source = source;
        Weights = weights;
        Spec = spec;
        InputSource = inputSource;
        ImageSize = imageSize;
        Paddings = paddings;
        _trunk = trunk;
        Notes = notes;
    }

    /// <summary>The ONNX file imported.</summary>
    public string Source { get; }

    /// <summary>
    /// The weights under timm's resnet names (<c>conv1.weight</c>, <c>bn1.running_mean</c>, <c>layer1.0.conv1.weight</c>,
    /// <c>layer2.0.downsample.1.weight</c>, …, and <c>fc.weight</c>/<c>fc.bias</c> when the graph has a classifier), with
    /// <c>num_batches_tracked</c> zeros as timm's state dict has. Owned by this object.
    /// </summary>
    public StateDict Weights { get; }

    /// <summary>
    /// The configuration found in the graph, as the spec that builds the matching model (<c>Spec.CreateModel()</c>, then
    /// <c>LoadStateDict(Weights)</c>): block type, layers, channels, plain stem width (<see cref="ResNetSpec.PlainStemWidth"/>
    /// when not 64), classes (0 without a classifier), the graph's image size and <see cref="Input"/>.
    /// </summary>
    public ResNetSpec Spec { get; }

    /// <summary>True when the graph ends in a classifier; false for a features-only teacher such as ML.NET's ResNet-18.</summary>
    public bool HasClassifier => Spec.NumClasses > 0;

    /// <summary>How the teacher expects its input (channel order, scale, mean, std); a student inherits it by default.</summary>
    public InputConvention Input => Spec.Input;

    /// <summary>Where <see cref="Input"/> came from: the preprocessing model, the options, or an assumption.</summary>
    public string InputSource { get; }

    /// <summary>The fixed image size of the graph's input, when it states one (ML.NET's ResNet-18: 224×224).</summary>
    public (int H, int W)? ImageSize { get; }

    /// <summary>Layers whose ONNX padding is not timm's symmetric padding (empty for PyTorch exports).</summary>
    public IReadOnlyList<OnnxPadding> Paddings { get; }

    /// <summary>Everything a user should know about how the ONNX model and timm's differ, in plain sentences.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>
    /// True when timm's symmetric padding gives exactly the ONNX graph's results at this input size. Both paddings start
    /// windows at the same place, so they agree whenever every padded layer yields the same output size; with CNTK's
    /// trailing pads that holds when each strided layer sees an even size (image sides that are multiples of 32).
    /// </summary>
    public bool PaddingMatchesTimm(int height, int width)
    {
        var onnx = new SpatialSize(height, width);
        var timm = onnx;
        foreach (var (_, window) in _trunk)
        {
            onnx = window.Apply(onnx);
            timm = window.Symmetric.Apply(timm);
            if (onnx != timm || onnx.H <= 0 || onnx.W <= 0) return false;
        }
        return true;
    }

    /// <summary>Disposes the weights.</summary>
    public void Dispose() => Weights.Dispose();
}

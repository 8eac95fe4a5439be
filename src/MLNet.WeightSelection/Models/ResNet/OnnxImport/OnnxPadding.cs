namespace MLNet.WeightSelection.Models.ResNet;

/// <summary>
/// A convolution or pooling layer whose ONNX padding differs from timm's symmetric padding. CNTK pads strided
/// layers asymmetrically ([3, 3, 2, 2] on the 7×7 stem, [1, 1, 0, 0] on the max-pool and strided 3×3 convs). The
/// leading pads are timm's, so outputs are identical whenever both paddings give the same output size; see
/// <see cref="OnnxResNetImport.PaddingMatchesTimm"/>.
/// </summary>
/// <param name="Layer">timm name of the layer ("conv1", "maxpool", "layer2.0.conv1").</param>
/// <param name="OnnxPads">The ONNX pads: [top, left, bottom, right].</param>
/// <param name="TimmPads">The pads timm applies: [top, left, bottom, right], symmetric.</param>
/// <param name="Kernel">Kernel size [h, w].</param>
/// <param name="Stride">Stride [h, w].</param>
public sealed record OnnxPadding(string Layer, long[] OnnxPads, long[] TimmPads, long[] Kernel, long[] Stride)
{
    /// <summary>e.g. "conv1: ONNX pads [3, 3, 2, 2], timm [3, 3, 3, 3] (7x7, stride 2)".</summary>
    public override string ToString() =>
        $"{Layer}: ONNX pads [{string.Join(", ", OnnxPads)}], timm [{string.Join(", ", TimmPads)}] ({Kernel[0]}x{Kernel[1]}, stride {Stride[0]})";
}

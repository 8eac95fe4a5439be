using MLNet.WeightSelection.Checkpoints.Onnx;
using MLNet.WeightSelection.Models.Onnx;
using Onnx;

namespace MLNet.WeightSelection.Models.ResNet;

/// <summary>A 2-D spatial size, or unknown when the graph leaves it symbolic.</summary>
internal readonly record struct SpatialSize(long H, long W);

/// <summary>
/// A convolution or pooling window as ONNX states it: kernel, strides and pads in ONNX order
/// [top, left, bottom, right].
/// </summary>
internal sealed record Window(long[] Kernel, long[] Strides, long[] Pads)
{
    /// <summary>Output size of this window over <paramref name="input"/> (floor mode).</summary>
    public SpatialSize Apply(SpatialSize input) => new(
        (input.H + Pads[0] + Pads[2] - Kernel[0]) / Strides[0] + 1,
        (input.W + Pads[1] + Pads[3] - Kernel[1]) / Strides[1] + 1);

    /// <summary>The same window padded symmetrically by its leading pads, as timm/PyTorch pad.</summary>
    public Window Symmetric => new(Kernel, Strides, new[] { Pads[0], Pads[1], Pads[0], Pads[1] });

    /// <summary>True when the trailing pads equal the leading ones.</summary>
    public bool IsSymmetric => Pads[0] == Pads[2] && Pads[1] == Pads[3];
}

/// <summary>One Conv, optionally followed by its BatchNormalization: a timm conv/bn pair.</summary>
internal sealed record ConvUnit(NodeProto Conv, NodeProto? Norm, Window Window, long OutChannels, long InChannels);

/// <summary>One residual block: the main path's conv units and the optional downsample unit.</summary>
internal sealed record ResidualBlock(IReadOnlyList<ConvUnit> Main, ConvUnit? Downsample);

/// <summary>The classifier after pooling: a Gemm, or a MatMul plus an optional bias Add.</summary>
internal sealed record ClassifierNodes(NodeProto Linear, NodeProto? BiasAdd);

/// <summary>A ResNet recovered from an ONNX graph by its structure alone, independent of initializer names.</summary>
internal sealed record ResNetGraph(
    string InputName,
    SpatialSize? InputSize,
    IReadOnlyList<NodeProto> Normalization,
    string NormalizedInput,
    ConvUnit Stem,
    NodeProto StemPool,
    Window StemPoolWindow,
    IReadOnlyList<IReadOnlyList<ResidualBlock>> Stages,
    NodeProto GlobalPool,
    SpatialSize? PooledSize,
    ClassifierNodes? Classifier);

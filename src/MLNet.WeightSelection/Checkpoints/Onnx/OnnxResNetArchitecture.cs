namespace MLNet.WeightSelection.Checkpoints.Onnx;

/// <summary>
/// The ResNet configuration an ONNX graph turned out to have, in timm's constructor terms
/// (<c>block</c>, <c>layers</c>, <c>channels</c>), so the matching TorchSharp model can be built.
/// </summary>
/// <param name="Block">"basic" (two 3×3 convs) or "bottleneck" (1×1, 3×3, 1×1 with expansion 4).</param>
/// <param name="Layers">Blocks per stage (layer1..layer4), e.g. [2, 2, 2, 2] for resnet18.</param>
/// <param name="Channels">timm's per-stage <c>channels</c> (planes): a stage outputs channels × expansion.</param>
/// <param name="StemWidth">Output channels of the plain 7×7 stem (timm's plain stem always has 64).</param>
/// <param name="BaseWidth">timm's <c>base_width</c>: a bottleneck's inner width is channels × base_width / 64 (64 unless wide).</param>
/// <param name="InChans">Input channels of the stem.</param>
/// <param name="NumClasses">Classifier outputs; 0 when the graph has no classifier (a features-only model).</param>
public sealed record OnnxResNetArchitecture(string Block, int[] Layers, int[] Channels, int StemWidth, int BaseWidth, int InChans, int NumClasses)
{
    /// <summary>Output channels of a block: 1 for basic, 4 for bottleneck (timm's <c>expansion</c>).</summary>
    public int Expansion => Block == "bottleneck" ? 4 : 1;

    /// <summary>Width of the pooled features (timm's <c>num_features</c>): the last stage's output channels.</summary>
    public int NumFeatures => Channels[^1] * Expansion;

    /// <summary>timm-style summary, e.g. "resnet basic layers [2, 2, 2, 2] channels [64, 128, 256, 512]".</summary>
    public override string ToString() =>
        $"resnet {Block} layers [{string.Join(", ", Layers)}] channels [{string.Join(", ", Channels)}] stem {StemWidth}"
        + (BaseWidth != 64 ? $" base_width {BaseWidth}" : "") + $" in_chans {InChans} num_classes {NumClasses}";
}

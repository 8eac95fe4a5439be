namespace MLNet.WeightSelection.Models;

/// <summary>Channel order a model expects its input planes in.</summary>
public enum ChannelOrder
{
    /// <summary>Red, green, blue (timm, torchvision).</summary>
    Rgb,
    /// <summary>Blue, green, red (CNTK, Caffe exports such as ML.NET's ResNet-18).</summary>
    Bgr,
}

/// <summary>
/// How a model expects its input to be prepared, like timm's <c>pretrained_cfg</c>: channel order, the scale the
/// raw 0–255 pixels are divided by, then per-channel mean and std (in the model's channel order, on the scaled
/// values). A student inherits its teacher's convention by default, because selected BatchNorm statistics and
/// first-layer filters only fit the input they were trained on.
/// </summary>
/// <param name="Order">Channel order of the model's input planes.</param>
/// <param name="Scale">Raw pixels (0–255) are divided by this first: 255 for timm's 0–1 inputs, 1 for 0–255 inputs.</param>
/// <param name="Mean">Per-channel mean subtracted after scaling, in <paramref name="Order"/>.</param>
/// <param name="Std">Per-channel std divided by after the mean, in <paramref name="Order"/>.</param>
/// <param name="Interpolation">Resize interpolation the teacher was trained with ("bilinear", "bicubic").</param>
public sealed record InputConvention(ChannelOrder Order, float Scale, float[] Mean, float[] Std, string Interpolation = "bilinear")
{
    /// <summary>timm's ImageNet default: RGB, 0–1, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225).</summary>
    public static InputConvention ImageNet { get; } =
        new(ChannelOrder.Rgb, 255f, new[] { 0.485f, 0.456f, 0.406f }, new[] { 0.229f, 0.224f, 0.225f }, "bicubic");

    /// <summary>timm's Inception convention (most ViT checkpoints): RGB, 0–1, mean 0.5, std 0.5.</summary>
    public static InputConvention Inception { get; } =
        new(ChannelOrder.Rgb, 255f, new[] { 0.5f, 0.5f, 0.5f }, new[] { 0.5f, 0.5f, 0.5f }, "bicubic");

    /// <summary>Raw RGB pixels, 0–1, no mean or std.</summary>
    public static InputConvention Identity { get; } =
        new(ChannelOrder.Rgb, 255f, new[] { 0f, 0f, 0f }, new[] { 1f, 1f, 1f });

    /// <summary>Value equality, element by element on <see cref="Mean"/> and <see cref="Std"/>.</summary>
    public bool Equals(InputConvention? other) =>
        other is not null && Order == other.Order && Scale.Equals(other.Scale)
        && Mean.AsSpan().SequenceEqual(other.Mean) && Std.AsSpan().SequenceEqual(other.Std)
        && string.Equals(Interpolation, other.Interpolation, StringComparison.Ordinal);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Order);
        hash.Add(Scale);
        foreach (var m in Mean) hash.Add(m);
        foreach (var s in Std) hash.Add(s);
        hash.Add(Interpolation);
        return hash.ToHashCode();
    }
}

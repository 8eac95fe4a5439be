using MLNet.WeightSelection.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// Turns cached RGB pixel batches into a model's float input according to its <see cref="InputConvention"/>:
/// reorder the planes (RGB or BGR), divide by the scale, subtract the mean and divide by the std per channel.
/// </summary>
public static class InputNormalization
{
    /// <summary>
    /// Normalizes <paramref name="uint8Batch"/>: <c>[B, 3, H, W]</c> RGB planes with values 0–255, either uint8 (as
    /// cached) or floating point (after augmentation). Returns a new float32 tensor on the batch's device.
    /// </summary>
    /// <exception cref="ArgumentException">The batch is not <c>[B, 3, H, W]</c>, or the convention does not have 3 channels.</exception>
    public static Tensor Apply(Tensor uint8Batch, InputConvention convention)
    {
        ArgumentNullException.ThrowIfNull(uint8Batch);
        ArgumentNullException.ThrowIfNull(convention);
        if (uint8Batch.dim() != 4 || uint8Batch.shape[1] != 3)
            throw new ArgumentException($"Expected a [B, 3, H, W] RGB batch; got [{string.Join(", ", uint8Batch.shape)}].", nameof(uint8Batch));
        if (uint8Batch.dtype != ScalarType.Byte && !uint8Batch.is_floating_point())
            throw new ArgumentException($"Expected uint8 or floating-point pixels (0–255); got {uint8Batch.dtype}.", nameof(uint8Batch));
        if (convention.Mean.Length != 3 || convention.Std.Length != 3)
            throw new ArgumentException($"The input convention must give 3 means and 3 stds; got {convention.Mean.Length} and {convention.Std.Length}.", nameof(convention));
        if (!(convention.Scale > 0) || convention.Std.Any(s => !(s > 0)))
            throw new ArgumentException("The input convention's scale and stds must be > 0.", nameof(convention));

        using var scope = NewDisposeScope();
        var x = uint8Batch.to_type(ScalarType.Float32);
        if (convention.Order == ChannelOrder.Bgr) x = x.flip(1);
        // (x / scale - mean) / std folded into one multiply and one subtract per channel.
        var factor = new float[3];
        var offset = new float[3];
        for (int c = 0; c < 3; c++)
        {
            factor[c] = (float)(1.0 / ((double)convention.Scale * convention.Std[c]));
            offset[c] = (float)((double)convention.Mean[c] / convention.Std[c]);
        }
        var f = tensor(factor, new long[] { 1, 3, 1, 1 }, device: x.device);
        var o = tensor(offset, new long[] { 1, 3, 1, 1 }, device: x.device);
        return x.mul(f).sub_(o).MoveToOuterDisposeScope();
    }
}

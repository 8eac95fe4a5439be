using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.Layers;

/// <summary>
/// A convolution with an odd square kernel k and padding (k − 1) / 2 on maps that the kernel overhangs, as
/// ConvNeXt's 7×7 depthwise kernels on the 2×2 and 1×1 maps of its last stages at 32–64 px, or a ResNet's 3×3 kernels
/// on 1×1 maps. Taps that only ever meet padding zeros are cropped from the kernel and the padding shrunk to match:
/// the same output, the same gradients (zero for the cropped taps, as before), a fraction of the work. It matters
/// because libtorch 2.10's oneDNN has no fast kernel for such weight gradients under the library's AVX2 cap and falls
/// back to im2col + GEMM, which took about 40% of a ConvNeXt-femto training step at 32 px (docs/benchmarks.md §2).
/// </summary>
internal static class SmallMapConvolution
{
    /// <summary>
    /// <paramref name="conv"/>'s forward, with the kernel cropped where autograd is recording and the convolution is
    /// one this class computes (odd square kernel, padding (k − 1) / 2 with zeros, the same stride on both axes, no
    /// dilation): the crop pays in the weight gradient. Otherwise, and without autograd (eval forwards, teachers,
    /// cost-counting forward hooks), the module's own call.
    /// </summary>
    public static Tensor Call(Conv2d conv, Tensor x)
    {
        if (!is_grad_enabled()) return conv.call(x);
        long kernel = conv.kernel_size[0];
        bool croppable = kernel % 2 == 1 && conv.kernel_size.All(k => k == kernel)
            && conv.padding is { } padding && padding.All(p => p == (kernel - 1) / 2)
            && conv.stride.All(s => s == conv.stride[0]) && conv.dilation.All(d => d == 1)
            && conv.padding_mode == PaddingModes.Zeros;
        return croppable ? Cropped(x, conv.weight!, conv.bias, conv.stride[0], conv.groups) : conv.call(x);
    }

    /// <summary>
    /// <c>conv2d(x, weight, bias, stride, padding (k − 1) / 2, groups)</c>, computed with the kernel cropped to the
    /// taps that meet the map. <paramref name="weight"/> is [out, in / groups, k, k] with k odd.
    /// </summary>
    public static Tensor Cropped(Tensor x, Tensor weight, Tensor? bias, long stride, long groups)
    {
        long kernel = weight.shape[2];
        if (weight.shape[3] != kernel || kernel % 2 == 0)
            throw new ArgumentException($"Expected a square kernel of odd size, got {weight.shape[2]}×{weight.shape[3]}.", nameof(weight));
        long padding = (kernel - 1) / 2;
        var (startH, lengthH) = Taps(x.shape[2], kernel, stride, padding);
        var (startW, lengthW) = Taps(x.shape[3], kernel, stride, padding);
        if (lengthH == kernel && lengthW == kernel)
            return nn.functional.conv2d(x, weight, bias, strides: new[] { stride, stride }, padding: new[] { padding, padding }, groups: groups);

        using var scope = NewDisposeScope();
        var cropped = weight.narrow(2, startH, lengthH).narrow(3, startW, lengthW);
        bool depthwise = weight.shape[1] == 1 && groups == x.shape[1] && weight.shape[0] == groups;
        Tensor y;
        if (lengthH == 1 && lengthW == 1 && stride == 1 && depthwise)
        {
            // A 1×1 map under a depthwise kernel: each channel times its centre tap (a convolution call would cost more).
            y = x.mul(cropped.reshape(1, -1, 1, 1));
            if (bias is not null) y = y.add(bias.reshape(1, -1, 1, 1));
        }
        else
        {
            y = nn.functional.conv2d(x, cropped, bias, strides: new[] { stride, stride },
                padding: new[] { padding - startH, padding - startW }, groups: groups);
        }
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The taps of one axis that meet a pixel at some output position: the first and how many. All k when the crop
    /// would need more padding on one side than the other (conv2d pads evenly).
    /// </summary>
    static (long Start, long Length) Taps(long size, long kernel, long stride, long padding)
    {
        long outputs = (size + 2 * padding - kernel) / stride + 1;
        long first = Math.Max(0, padding - (outputs - 1) * stride);
        long last = Math.Min(kernel - 1, padding + size - 1);
        long length = last - first + 1;
        long left = padding - first;
        long right = (outputs - 1) * stride + length - size - left;
        return right == left ? (first, length) : (0, kernel);
    }
}

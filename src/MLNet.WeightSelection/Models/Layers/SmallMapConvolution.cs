using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.Layers;

/// <summary>
/// A stride-1, "same"-padded convolution (odd kernel k, padding (k − 1) / 2) on maps that the kernel overhangs, as
/// ConvNeXt's 7×7 depthwise kernels on the 2×2 and 1×1 maps of its last stages at 32–64 px. A tap more than H − 1
/// rows (or W − 1 columns) from the kernel's centre only ever meets padding zeros, so the kernel is cropped to the taps
/// that can meet a pixel and the padding shrunk to match: the same output, the same gradients (zero for the other
/// taps, as before), a fraction of the work. It matters because libtorch 2.10's oneDNN has no fast kernel for
/// depthwise weight gradients on such maps under the library's AVX2 cap and falls back to im2col + GEMM, which took
/// about 40% of a ConvNeXt-femto training step at 32 px (docs/benchmarks.md §2).
/// </summary>
internal static class SmallMapConvolution
{
    /// <summary>
    /// <paramref name="conv"/>'s forward (stride 1, padding (k − 1) / 2) with the kernel cropped where autograd is
    /// recording: the crop pays in the weight gradient. Without autograd (eval forwards, teachers, cost-counting
    /// forward hooks) this is the module's own call.
    /// </summary>
    public static Tensor Call(Conv2d conv, Tensor x) =>
        is_grad_enabled() ? SamePadded(x, conv.weight!, conv.bias, conv.groups) : conv.call(x);

    /// <summary>
    /// <c>conv2d(x, weight, bias, stride 1, padding (k − 1) / 2, groups)</c>, computed with the kernel cropped to the
    /// taps that meet the map. <paramref name="weight"/> is [out, in / groups, k, k] with k odd.
    /// </summary>
    public static Tensor SamePadded(Tensor x, Tensor weight, Tensor? bias, long groups)
    {
        long kernel = weight.shape[2];
        if (weight.shape[3] != kernel || kernel % 2 == 0)
            throw new ArgumentException($"Expected a square kernel of odd size, got {weight.shape[2]}×{weight.shape[3]}.", nameof(weight));
        long padding = (kernel - 1) / 2;
        long reachH = Math.Min(padding, x.shape[2] - 1), reachW = Math.Min(padding, x.shape[3] - 1);
        if (reachH == padding && reachW == padding)
            return nn.functional.conv2d(x, weight, bias, padding: new[] { padding, padding }, groups: groups);

        using var scope = NewDisposeScope();
        var cropped = weight.narrow(2, padding - reachH, 2 * reachH + 1).narrow(3, padding - reachW, 2 * reachW + 1);
        bool depthwise = weight.shape[1] == 1 && groups == x.shape[1] && weight.shape[0] == groups;
        Tensor y;
        if (reachH == 0 && reachW == 0 && depthwise)
        {
            // A 1×1 map under a depthwise kernel: each channel times its centre tap (a convolution call would cost more).
            y = x.mul(cropped.reshape(1, -1, 1, 1));
            if (bias is not null) y = y.add(bias.reshape(1, -1, 1, 1));
        }
        else
        {
            y = nn.functional.conv2d(x, cropped, bias, padding: new[] { reachH, reachW }, groups: groups);
        }
        return y.MoveToOuterDisposeScope();
    }
}

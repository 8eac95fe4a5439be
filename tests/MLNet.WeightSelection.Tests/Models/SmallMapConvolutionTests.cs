using MLNet.WeightSelection.Models.Layers;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Models;

/// <summary>
/// The cropped-kernel convolution must be the full "same"-padded convolution: same output, same input and weight
/// gradients (zero on the taps that only meet padding), on maps smaller than, equal to and larger than the kernel.
/// </summary>
public class SmallMapConvolutionTests
{
    [Theory]
    [InlineData(1, 1, 7, 1, true)]
    [InlineData(2, 2, 7, 1, true)]
    [InlineData(3, 3, 7, 1, true)]
    [InlineData(4, 4, 7, 1, true)]
    [InlineData(8, 8, 7, 1, true)]
    [InlineData(1, 3, 7, 1, true)]
    [InlineData(2, 5, 5, 1, true)]
    [InlineData(1, 1, 3, 1, false)]
    [InlineData(2, 3, 5, 1, false)]
    [InlineData(2, 2, 3, 2, false)]
    [InlineData(1, 1, 3, 2, false)]
    [InlineData(3, 2, 3, 2, false)]
    [InlineData(4, 4, 7, 2, false)]
    [InlineData(5, 2, 7, 2, true)]
    public void Matches_the_full_convolution_and_its_gradients(int height, int width, int kernel, int stride, bool depthwise)
    {
        using var scope = NewDisposeScope();
        manual_seed(height * 1000 + width * 100 + kernel * 10 + stride);
        const int channels = 6;
        long groups = depthwise ? channels : 2;
        long padding = (kernel - 1) / 2;
        var weight = randn(channels, channels / groups, kernel, kernel);
        var bias = randn(channels);
        var x = randn(3, channels, height, width);
        using var reference = nn.functional.conv2d(x, weight, bias, strides: new long[] { stride, stride }, padding: new[] { padding, padding }, groups: groups);
        var upstream = randn_like(reference);

        var (expected, expectedDx, expectedDw, expectedDb) = Run(x, weight, bias, upstream,
            (xi, w, b) => nn.functional.conv2d(xi, w, b, strides: new long[] { stride, stride }, padding: new[] { padding, padding }, groups: groups));
        var (actual, actualDx, actualDw, actualDb) = Run(x, weight, bias, upstream,
            (xi, w, b) => SmallMapConvolution.Cropped(xi, w, b, stride, groups));

        TensorAssert.Close(expected, actual, 1e-5, 1e-5, "output");
        TensorAssert.Close(expectedDx, actualDx, 1e-5, 1e-5, "input gradient");
        TensorAssert.Close(expectedDw, actualDw, 1e-5, 1e-5, "weight gradient");
        TensorAssert.Close(expectedDb, actualDb, 1e-5, 1e-5, "bias gradient");
    }

    [Fact]
    public void Taps_that_only_meet_padding_get_a_zero_gradient()
    {
        using var scope = NewDisposeScope();
        var weight = randn(4, 1, 7, 7).requires_grad_(true);
        SmallMapConvolution.Cropped(randn(2, 4, 2, 2), weight, null, 1, 4).sum().backward();
        // On a 2×2 map only the taps within one row and column of the centre (2..4) meet a pixel.
        var used = zeros(7, 7);
        used.narrow(0, 2, 3).narrow(1, 2, 3).fill_(1);
        Assert.Equal(0.0f, weight.grad!.abs().mul(used.neg().add(1)).max().item<float>());
        Assert.True(weight.grad!.abs().mul(used).sum().item<float>() > 0);
    }

    [Fact]
    public void Without_autograd_the_module_is_called_so_its_forward_hooks_see_it()
    {
        using var scope = NewDisposeScope();
        using var conv = nn.Conv2d(4, 4, 7, padding: 3, groups: 4);
        int hookCalls = 0;
        var hook = conv.register_forward_hook((m, input, output) => { hookCalls++; return output; });
        var x = randn(2, 4, 2, 2);

        Tensor viaModule;
        using (no_grad()) viaModule = SmallMapConvolution.Call(conv, x);
        Assert.Equal(1, hookCalls);

        var cropped = SmallMapConvolution.Call(conv, x);
        Assert.Equal(1, hookCalls);
        Assert.True(cropped.requires_grad);
        TensorAssert.Close(viaModule, cropped.detach(), 1e-5, 1e-5, "cropped vs module output");
        hook.remove();
    }

    [Theory]
    [InlineData(1, 2, 1)] // same padding, stride 2 on a 2×2 map: cropped to 2×2 taps
    [InlineData(0, 1, 1)] // no padding: not a convolution the crop computes, so the module's own call
    [InlineData(1, 1, 2)] // dilated: likewise
    public void Called_with_a_module_it_gives_the_module_output(int padding, int stride, int dilation)
    {
        using var scope = NewDisposeScope();
        using var conv = nn.Conv2d(4, 6, 3, stride: stride, padding: padding, dilation: dilation);
        var x = randn(2, 4, 5, 5).narrow(2, 0, stride == 2 ? 2 : 5).narrow(3, 0, stride == 2 ? 2 : 5).contiguous();

        Tensor expected;
        using (no_grad()) expected = conv.call(x);
        var actual = SmallMapConvolution.Call(conv, x);

        TensorAssert.Close(expected, actual.detach(), 1e-5, 1e-5, $"padding {padding}, stride {stride}, dilation {dilation}");
    }

    [Fact]
    public void Rejects_an_even_kernel()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => SmallMapConvolution.Cropped(randn(1, 2, 2, 2), randn(2, 1, 4, 4), null, 1, 2));
        Assert.Contains("4×4", e.Message);
    }

    static (Tensor Y, Tensor Dx, Tensor Dw, Tensor Db) Run(Tensor x, Tensor weight, Tensor bias, Tensor upstream, Func<Tensor, Tensor, Tensor, Tensor> conv)
    {
        var xi = x.detach().clone().requires_grad_(true);
        var w = weight.detach().clone().requires_grad_(true);
        var b = bias.detach().clone().requires_grad_(true);
        var y = conv(xi, w, b);
        y.mul(upstream).sum().backward();
        return (y.detach(), xi.grad!, w.grad!, b.grad!);
    }
}

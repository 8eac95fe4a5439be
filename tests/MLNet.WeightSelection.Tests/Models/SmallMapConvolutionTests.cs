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
    [InlineData(1, 1, 7, true)]
    [InlineData(2, 2, 7, true)]
    [InlineData(3, 3, 7, true)]
    [InlineData(4, 4, 7, true)]
    [InlineData(8, 8, 7, true)]
    [InlineData(1, 3, 7, true)]
    [InlineData(2, 5, 5, true)]
    [InlineData(1, 1, 3, false)]
    [InlineData(2, 3, 5, false)]
    public void Matches_the_full_convolution_and_its_gradients(int height, int width, int kernel, bool depthwise)
    {
        using var scope = NewDisposeScope();
        manual_seed(height * 100 + width * 10 + kernel);
        const int channels = 6;
        long groups = depthwise ? channels : 2;
        var weight = randn(channels, channels / groups, kernel, kernel);
        var bias = randn(channels);
        var x = randn(3, channels, height, width);
        var upstream = randn(3, channels, height, width);

        var (expected, expectedDx, expectedDw, expectedDb) = Run(x, weight, bias, upstream,
            (xi, w, b) => nn.functional.conv2d(xi, w, b, padding: new long[] { (kernel - 1) / 2, (kernel - 1) / 2 }, groups: groups));
        var (actual, actualDx, actualDw, actualDb) = Run(x, weight, bias, upstream,
            (xi, w, b) => SmallMapConvolution.SamePadded(xi, w, b, groups));

        TensorAssert.Close(expected, actual, 1e-5, 1e-5, "output");
        TensorAssert.Close(expectedDx, actualDx, 1e-5, 1e-5, "input gradient");
        TensorAssert.Close(expectedDw, actualDw, 1e-5, 1e-5, "weight gradient");
        TensorAssert.Close(expectedDb, actualDb, 1e-5, 1e-5, "bias gradient");

        // Taps farther than H − 1 rows (W − 1 columns) from the centre get exactly zero, as they did before.
        int centre = (kernel - 1) / 2;
        for (int i = 0; i < kernel; i++)
            for (int j = 0; j < kernel; j++)
                if (Math.Abs(i - centre) > height - 1 || Math.Abs(j - centre) > width - 1)
                    Assert.Equal(0.0, actualDw[.., .., i, j].abs().max().item<float>());
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

    [Fact]
    public void Rejects_an_even_kernel()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => SmallMapConvolution.SamePadded(randn(1, 2, 2, 2), randn(2, 1, 4, 4), null, 2));
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

using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.ResNet;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Models;

/// <summary>
/// Regression test for libtorch's oneDNN AVX-512 convolution backward, which returned NaN input gradients for
/// 8-channel 3×3 convolutions on this project's AVX-512 build machine (about one call in four). The library caps
/// oneDNN at AVX2 when it loads (Training/ConvolutionBackwardGuard) unless the user chose an ISA. Without the cap,
/// 40 calls hit the NaN with probability 1 − 0.75⁴⁰.
/// </summary>
public class OneDnnConvolutionGradientTests
{
    [Fact]
    public void ConvolutionGradientsAreFiniteOnceAModelExists()
    {
        using (new ResNetSpec { Layers = new[] { 1 }, Channels = new[] { 8 }, NumClasses = 2 }.CreateModel()) { }

        using var conv = nn.Conv2d(8, 8, 3, padding: 1, bias: false);
        int nonFinite = 0;
        for (int i = 0; i < 40; i++)
        {
            using var scope = NewDisposeScope();
            var x = randn(4, 8, 4, 4).requires_grad_(true);
            conv.call(x).sum().backward();
            if (!x.grad!.isfinite().all().item<bool>()) nonFinite++;
            using (no_grad()) conv.weight!.grad?.zero_();
        }
        Assert.Equal(0, nonFinite);
    }
}

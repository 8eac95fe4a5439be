using ImageClassification;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.ResNet;
using Xunit;

namespace MLNet.WeightSelection.Tests.Samples;

public class ModelCostTests
{
    [Fact]
    public void Half_width_resnet18_at_32px_counts_every_conv_and_the_classifier()
    {
        var spec = (ResNetSpec)ModelRegistry.WithOverrides(ModelRegistry.GetSpec("resnet18_half"), 10, 32);

        var cost = ModelCost.Of(spec);

        // Multiply-adds by hand: output pixels × output channels × (input channels × kernel area) per conv.
        long stem = 16 * 16 * 32 * (3 * 7 * 7);                      // 7×7 stride 2: 32 → 16 px, then max pool → 8 px
        long layer1 = 4 * (8 * 8 * 32 * (32 * 9));                   // two blocks of two 3×3 convs at 8 px
        long Stage(int px, int cin, int cout) =>                      // first conv strides, 1×1 shortcut, three more 3×3
            px * px * cout * (cin * 9) + px * px * cout * cin + 3 * (px * px * cout * (cout * 9));
        long expectedMacs = stem + layer1 + Stage(4, 32, 64) + Stage(2, 64, 128) + Stage(1, 128, 256) + 256 * 10;
        Assert.Equal(9_857_536, expectedMacs);
        Assert.Equal(expectedMacs / 1e6, cost.MegaFlops, 9);

        // Parameters: conv weights, BatchNorm weight and bias, classifier weight and bias.
        long Conv(int cin, int cout, int k) => (long)cin * cout * k * k;
        long Bn(int c) => 2L * c;
        long Block(int cin, int cout, bool shortcut) => Conv(cin, cout, 3) + Bn(cout) + Conv(cout, cout, 3) + Bn(cout)
            + (shortcut ? Conv(cin, cout, 1) + Bn(cout) : 0);
        long expectedParameters = Conv(3, 32, 7) + Bn(32)
            + Block(32, 32, false) * 2
            + Block(32, 64, true) + Block(64, 64, false)
            + Block(64, 128, true) + Block(128, 128, false)
            + Block(128, 256, true) + Block(256, 256, false)
            + 256 * 10 + 10;
        Assert.Equal(expectedParameters, cost.Parameters);
    }

    [Fact]
    public void Compute_grows_with_the_square_of_the_image_side_for_the_convolutions()
    {
        var small = ModelCost.Of(ModelRegistry.WithOverrides(ModelRegistry.GetSpec("resnet18_half"), 10, 32));
        var large = ModelCost.Of(ModelRegistry.WithOverrides(ModelRegistry.GetSpec("resnet18_half"), 10, 64));

        Assert.Equal(small.Parameters, large.Parameters);
        double classifier = 256 * 10 / 1e6;
        Assert.Equal(4 * (small.MegaFlops - classifier), large.MegaFlops - classifier, 6);
    }
}

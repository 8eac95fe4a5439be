using MLNet.WeightSelection.Models.ResNet;

namespace MLNet.WeightSelection.Bench.Inference;

/// <summary>
/// FLOPs of a basic-block ResNet forward pass per image, analytically (one multiply-add = 2 FLOPs; convolutions and
/// the classifier only; BatchNorm, ReLU, pooling and additions are O(activations) and left out): a k×k convolution
/// from c_in to c_out channels producing an s×s map costs 2·s²·c_out·c_in·k². The plain stem is a 7×7 stride-2
/// convolution then a stride-2 max-pool; stage i ≥ 1 halves the map in its first block, which also has a 1×1
/// downsample convolution when the stride or the width changes.
/// </summary>
static class ResNetFlops
{
    public static double Forward(int[] layers, int[] channels, int stem, int imageSize, int classes)
    {
        double Conv(double side, double cin, double cout, double k) => 2 * side * side * cout * cin * k * k;
        double side = Math.Ceiling(imageSize / 2.0);
        double flops = Conv(side, 3, stem, 7);
        side = Math.Ceiling(side / 2.0);
        double cin = stem;
        for (int s = 0; s < layers.Length; s++)
        {
            for (int b = 0; b < layers[s]; b++)
            {
                int stride = s > 0 && b == 0 ? 2 : 1;
                double outSide = Math.Ceiling(side / stride);
                flops += Conv(outSide, cin, channels[s], 3) + Conv(outSide, channels[s], channels[s], 3);
                if (stride != 1 || cin != channels[s]) flops += Conv(outSide, cin, channels[s], 1);
                side = outSide;
                cin = channels[s];
            }
        }
        return flops + (classes > 0 ? 2 * cin * classes : 0);
    }

    public static double Forward(ResNetSpec spec, int imageSize, int classes) =>
        Forward(spec.Layers, spec.Channels, spec.StemChannels, imageSize, classes);
}

using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Checkpoints.Onnx;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MLNet.WeightSelection.Tests.Onnx;

/// <summary>
/// timm's ResNet forward pass written out with functional TorchSharp ops over a timm-named state dict (eval mode,
/// symmetric padding): an independent reference for imported weights.
/// </summary>
internal static class ReferenceResNet
{
    /// <summary>Pooled features [N, C], or logits [N, classes] when <paramref name="logits"/> and the dict has fc.</summary>
    public static Tensor Forward(StateDict sd, OnnxResNetArchitecture arch, Tensor x, bool logits = false)
    {
        using var scope = NewDisposeScope();
        x = ConvBn(sd, x, "conv1", "bn1", stride: 2, padding: 3).relu();
        x = F.max_pool2d(x, new long[] { 3, 3 }, new long[] { 2, 2 }, new long[] { 1, 1 });
        for (int s = 0; s < 4; s++)
            for (int b = 0; b < arch.Layers[s]; b++)
            {
                string p = $"layer{s + 1}.{b}.";
                int stride = s > 0 && b == 0 ? 2 : 1;
                Tensor y;
                if (arch.Block == "basic")
                {
                    y = ConvBn(sd, x, p + "conv1", p + "bn1", stride, 1).relu();
                    y = ConvBn(sd, y, p + "conv2", p + "bn2", 1, 1);
                }
                else
                {
                    y = ConvBn(sd, x, p + "conv1", p + "bn1", 1, 0).relu();
                    y = ConvBn(sd, y, p + "conv2", p + "bn2", stride, 1).relu();
                    y = ConvBn(sd, y, p + "conv3", p + "bn3", 1, 0);
                }
                var shortcut = sd.Contains(p + "downsample.0.weight") ? ConvBn(sd, x, p + "downsample.0", p + "downsample.1", stride, 0) : x;
                x = (y + shortcut).relu();
            }
        x = x.mean(new long[] { 2, 3 });
        if (logits) x = F.linear(x, sd["fc.weight"], sd["fc.bias"]);
        return x.MoveToOuterDisposeScope();
    }

    static Tensor ConvBn(StateDict sd, Tensor x, string conv, string bn, int stride, int padding)
    {
        var y = F.conv2d(x, sd[conv + ".weight"], strides: new long[] { stride, stride }, padding: new long[] { padding, padding });
        return F.batch_norm(y, sd[bn + ".running_mean"], sd[bn + ".running_var"], sd[bn + ".weight"], sd[bn + ".bias"], training: false, eps: 1e-5);
    }
}

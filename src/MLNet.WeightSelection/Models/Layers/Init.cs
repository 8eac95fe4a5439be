using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.Layers;

/// <summary>Weight initializations timm's families use, drawn from torch's global generator (so <c>torch.manual_seed</c> fixes them).</summary>
public static class Init
{
    /// <summary>timm's <c>trunc_normal_(w, std)</c> (absolute bounds ±2) on the weight, zeros on the bias.</summary>
    public static void TruncNormalLinear(Linear linear, double std = 0.02)
    {
        using var _ = no_grad();
        nn.init.trunc_normal_(linear.weight!, 0.0, std, -2.0, 2.0);
        if (linear.bias is { } b) nn.init.zeros_(b);
    }

    /// <summary>timm's <c>trunc_normal_(w, std)</c> (absolute bounds ±2) on the weight, zeros on the bias.</summary>
    public static void TruncNormalConv(Conv2d conv, double std = 0.02)
    {
        using var _ = no_grad();
        nn.init.trunc_normal_(conv.weight!, 0.0, std, -2.0, 2.0);
        if (conv.bias is { } b) nn.init.zeros_(b);
    }

    /// <summary>torchvision/timm ResNet init: <c>kaiming_normal_(mode='fan_out', nonlinearity='relu')</c>.</summary>
    public static void KaimingNormalFanOut(Conv2d conv)
    {
        using var _ = no_grad();
        nn.init.kaiming_normal_(conv.weight!, 0, nn.init.FanInOut.FanOut, nn.init.NonlinearityType.ReLU);
        if (conv.bias is { } b) nn.init.zeros_(b);
    }

    /// <summary>
    /// The drop-path rate of each of <paramref name="count"/> blocks: linearly from 0 to <paramref name="rate"/>
    /// (timm's <c>torch.linspace(0, rate, count)</c>, computed in float32 as torch does).
    /// </summary>
    public static double[] LinearDropPathRates(double rate, int count)
    {
        if (count <= 0) return Array.Empty<double>();
        using var rates = linspace(0, rate, count, ScalarType.Float32);
        return rates.data<float>().Select(v => (double)v).ToArray();
    }
}

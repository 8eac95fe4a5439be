using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.Layers;

/// <summary>Weight initializations timm's families use, drawn from torch's global generator (so <c>torch.manual_seed</c> fixes them).</summary>
public static class Init
{
    /// <summary>
    /// PyTorch's <c>trunc_normal_</c>: normal(mean, std) truncated to [a, b] by inverse-CDF sampling (uniform draw,
    /// <c>erfinv</c>, scale, clamp), from torch's global generator. TorchSharp 0.107's <c>nn.init.trunc_normal_</c>
    /// cannot be used: it fills every element with <paramref name="std"/>.
    /// </summary>
    public static Tensor TruncNormal(Tensor tensor, double mean = 0.0, double std = 1.0, double a = -2.0, double b = 2.0)
    {
        static double NormCdf(double x) => (1.0 + Erf(x / Math.Sqrt(2.0))) / 2.0;
        double low = NormCdf((a - mean) / std), high = NormCdf((b - mean) / std);
        using var _ = no_grad();
        tensor.uniform_(2 * low - 1, 2 * high - 1);
        tensor.erfinv_();
        tensor.mul_(std * Math.Sqrt(2.0));
        tensor.add_(mean);
        tensor.clamp_(a, b);
        return tensor;
    }

    /// <summary>timm's <c>trunc_normal_(w, std)</c> (absolute bounds ±2) on the weight, zeros on the bias.</summary>
    public static void TruncNormalLinear(Linear linear, double std = 0.02)
    {
        using var _ = no_grad();
        TruncNormal(linear.weight!, 0.0, std, -2.0, 2.0);
        if (linear.bias is { } b) nn.init.zeros_(b);
    }

    /// <summary>timm's <c>trunc_normal_(w, std)</c> (absolute bounds ±2) on the weight, zeros on the bias.</summary>
    public static void TruncNormalConv(Conv2d conv, double std = 0.02)
    {
        using var _ = no_grad();
        TruncNormal(conv.weight!, 0.0, std, -2.0, 2.0);
        if (conv.bias is { } b) nn.init.zeros_(b);
    }

    /// <summary>torchvision/timm ResNet init: <c>kaiming_normal_(mode='fan_out', nonlinearity='relu')</c>.</summary>
    public static void KaimingNormalFanOut(Conv2d conv)
    {
        using var _ = no_grad();
        nn.init.kaiming_normal_(conv.weight!, 0, nn.init.FanInOut.FanOut, nn.init.NonlinearityType.ReLU);
        if (conv.bias is { } b) nn.init.zeros_(b);
    }

    // erf to double precision: Maclaurin series near 0, erfc's continued fraction further out.
    static double Erf(double x)
    {
        if (x < 0) return -Erf(-x);
        if (x > 6) return 1.0;
        if (x < 2.5)
        {
            double sum = 0, term = x;
            for (int n = 0; n < 200; n++)
            {
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
                term *= -x * x / (n + 1);
            }
            return 2 / Math.Sqrt(Math.PI) * sum;
        }
        double k = x;
        for (int n = 80; n >= 1; n--) k = x + n / 2.0 / k;
        return 1 - Math.Exp(-x * x) / Math.Sqrt(Math.PI) / k;
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

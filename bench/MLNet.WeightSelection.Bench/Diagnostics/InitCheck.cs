using MLNet.WeightSelection.Bench.Infra;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Bench.Diagnostics;

/// <summary>
/// <c>check-init [--elements 100000000] [--repeats 3]</c>: counts non-finite values that TorchSharp's
/// <c>nn.init.trunc_normal_(w, 0, 0.02, -2, 2)</c> (timm's ViT init, used by the model families) writes. Found while
/// benchmarking: the random ViT-L teacher had 11 NaNs in 304 M weights; PyTorch 1.13's trunc_normal_ gave none in 300 M.
/// </summary>
static class InitCheck
{
    public static int Run(Args args)
    {
        long elements = args.Int("elements", 100_000_000);
        int repeats = args.Int("repeats", 3);
        args.EnsureAllUsed();
        manual_seed(0);
        using var t = empty(elements);
        long nan = 0, inf = 0;
        for (int r = 0; r < repeats; r++)
        {
            using (no_grad()) nn.init.trunc_normal_(t, 0.0, 0.02, -2.0, 2.0);
            using var n = t.isnan().sum();
            using var i = t.isinf().sum();
            nan += n.item<long>();
            inf += i.item<long>();
        }
        Console.WriteLine($"trunc_normal_(std 0.02, ±2) over {elements * repeats:N0} values: {nan} NaN, {inf} inf.");
        ChildProcess.Report(new() { ["values"] = elements * repeats, ["nan"] = nan, ["inf"] = inf });
        return 0;
    }
}

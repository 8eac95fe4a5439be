using MLNet.WeightSelection.Bench.Infra;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Bench.Diagnostics;

/// <summary>
/// <c>check-init [--elements 100000000] [--repeats 3]</c>: counts non-finite values written by timm's ViT init
/// <c>trunc_normal_(w, 0, 0.02, -2, 2)</c>, both TorchSharp's <c>nn.init.trunc_normal_</c> and the library's
/// <c>Init.TruncNormal</c>. Found while benchmarking: a random ViT-L teacher
/// made with TorchSharp's had 11 NaNs in 304 M weights; PyTorch 1.13's trunc_normal_ gave none in 300 M.
/// </summary>
static class InitCheck
{
    public static int Run(Args args)
    {
        long elements = args.Int("elements", 100_000_000);
        int repeats = args.Int("repeats", 3);
        args.EnsureAllUsed();
        using var t = empty(elements);
        var report = new Dictionary<string, object?> { ["values"] = elements * repeats };
        foreach (var (name, init) in new (string, Action<Tensor>)[]
        {
            ("TorchSharp nn.init.trunc_normal_", w => nn.init.trunc_normal_(w, 0.0, 0.02, -2.0, 2.0)),
            ("MLNet.WeightSelection Init.TruncNormal", w => global::MLNet.WeightSelection.Models.Layers.Init.TruncNormal(w, 0.0, 0.02, -2.0, 2.0)),
        })
        {
            manual_seed(0);
            long nan = 0, inf = 0;
            double std = 0;
            for (int r = 0; r < repeats; r++)
            {
                using (no_grad()) init(t);
                using var n = t.isnan().sum();
                using var i = t.isinf().sum();
                using var s = t.nan_to_num().std();
                nan += n.item<long>();
                inf += i.item<long>();
                std = s.item<float>();
            }
            Console.WriteLine($"{name} (std 0.02, ±2) over {elements * repeats:N0} values: {nan} NaN, {inf} inf, sample std {std:G4}.");
            report[name] = new { nan, inf, std };
        }
        ChildProcess.Report(report);
        return 0;
    }
}

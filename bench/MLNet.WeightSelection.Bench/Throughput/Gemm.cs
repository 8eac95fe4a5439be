using System.Diagnostics;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Bench.Throughput;

/// <summary>The machine's matrix-multiply rate through TorchSharp's libtorch: n×n float32 products, 2·n³ FLOPs each.</summary>
static class Gemm
{
    public static double GflopsPerSecond(int n, double minSeconds = 2.0)
    {
        using var scope = NewDisposeScope();
        manual_seed(0);
        var a = randn(n, n);
        var b = randn(n, n);
        var c = empty(n, n);
        for (int i = 0; i < 2; i++) matmul(a, b).Dispose(); // warm-up
        int reps = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < minSeconds || reps < 3)
        {
            using var _ = mm(a, b);
            reps++;
        }
        return 2.0 * n * n * n * reps / clock.Elapsed.TotalSeconds / 1e9;
    }
}

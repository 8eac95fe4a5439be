using System.Diagnostics;
using MLNet.WeightSelection.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Bench.Throughput;

/// <summary>
/// One training step of a library model in TorchSharp, exactly as bench/python/train_throughput.py times PyTorch's:
/// forward, cross-entropy, backward, AdamW step (lr 1e-3, weight decay 0.05), on one fixed random batch, so neither
/// side pays for data. A dispose scope around every step keeps native memory flat.
/// </summary>
static class TrainStep
{
    public sealed record Result(string Model, long Parameters, double ImagesPerSecond, double StepMilliseconds);

    public static Result Time(string name, ImageClassifier model, int batch, int size, int warmup, int steps)
    {
        model.train();
        using var optimizer = optim.AdamW(model.parameters(), lr: 1e-3, weight_decay: 0.05);
        manual_seed(0);
        using var x = randn(batch, 3, size, size);
        using var y = randint(0, model.NumClasses, new long[] { batch });
        var clock = new Stopwatch();
        for (int i = 0; i < warmup + steps; i++)
        {
            if (i == warmup) clock.Start();
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(model.forward(x), y);
            loss.backward();
            optimizer.step();
        }
        clock.Stop();
        long parameters = model.parameters().Sum(p => p.numel());
        return new Result(name, parameters, batch * steps / clock.Elapsed.TotalSeconds, clock.Elapsed.TotalMilliseconds / steps);
    }
}

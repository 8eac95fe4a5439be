using System.Diagnostics;
using MLNet.WeightSelection.Bench.Infra;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Runtime;
using MLNet.WeightSelection.Training;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Bench.Diagnostics;

/// <summary>
/// <c>check-kd-forward [--steps 40 --image-size 56 --batch 32 --threads 2]</c>: the distillation teacher's forward pass
/// (eval mode, no_grad) right after each training step of the student, through ATen's convolution (what training does
/// now) and through oneDNN, interleaved step by step: time of each, largest difference of the logits, and how often
/// oneDNN's are not finite. ResNet-18 teacher and resnet18_half student at the sample's size.
/// </summary>
static class KdForwardCheck
{
    public static int Run(Args args)
    {
        int steps = args.Int("steps", 40);
        int size = args.Int("image-size", 56);
        int batch = args.Int("batch", 32);
        int threads = args.Int("threads", 2);
        args.EnsureAllUsed();
        set_num_threads(threads);
        Console.WriteLine($"load at start {string.Join(" / ", MachineInfo.LoadAverageNow())}");
        bool oneDnn = NativeRuntimePolicy.ConfigureConvolutions(useOneDnn: true, Console.Error.WriteLine);
        manual_seed(1);
        using var teacher = ModelRegistry.Create("resnet18", numClasses: 10, imgSize: size);
        using var student = ModelRegistry.Create("resnet18_half", numClasses: 10, imgSize: size);
        teacher.eval();
        using var optimizer = optim.AdamW(student.parameters(), lr: 1e-3);
        double aten = 0, dnn = 0, train = 0, worst = 0;
        int nonFinite = 0;
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            var input = randn(batch, 3, size, size);
            var clock = Stopwatch.StartNew();
            using (NativeRuntimePolicy.OneDnnForTrainingStep(oneDnn))
            {
                optimizer.zero_grad();
                var loss = student.forward(input).pow(2).mean();
                loss.backward();
                optimizer.step();
            }
            train += clock.Elapsed.TotalSeconds;
            using var noGrad = no_grad();
            // Alternate which goes first so neither always runs on a warm cache.
            Tensor a = null!, d = null!;
            for (int k = 0; k < 2; k++)
            {
                bool atenTurn = (i + k) % 2 == 0;
                clock.Restart();
                if (atenTurn) { using (NativeRuntimePolicy.AtenConvolutions()) a = teacher.forward(input); aten += clock.Elapsed.TotalSeconds; }
                else { using (NativeRuntimePolicy.OneDnnForTrainingStep(oneDnn)) d = teacher.forward(input); dnn += clock.Elapsed.TotalSeconds; }
            }
            if (!d.isfinite().all().item<bool>()) { nonFinite++; continue; }
            worst = Math.Max(worst, d.sub(a).abs().max().item<float>());
        }
        Console.WriteLine($"{steps} steps, batch {batch}, {size} px, {threads} threads, oneDNN for training: {oneDnn}");
        Console.WriteLine($"student training step: {train / steps * 1000:F0} ms");
        Console.WriteLine($"teacher forward, ATen: {aten / steps * 1000:F0} ms; oneDNN: {dnn / steps * 1000:F0} ms; ratio ATen/oneDNN {aten / dnn:F2}");
        Console.WriteLine($"oneDNN logits not finite: {nonFinite} of {steps}; largest finite difference from ATen {worst:G3}");
        Console.WriteLine($"load at end {string.Join(" / ", MachineInfo.LoadAverageNow())}");
        return 0;
    }
}

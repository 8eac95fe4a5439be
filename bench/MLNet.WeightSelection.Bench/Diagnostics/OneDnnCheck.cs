using MLNet.WeightSelection.Bench.Infra;
using MLNet.WeightSelection.Runtime;
using MLNet.WeightSelection.Training;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Bench.Diagnostics;

/// <summary>
/// <c>check-onednn [--iterations 400 --threads 2 --gradient-checks 0]</c>: how often an eval-mode convolution forward
/// under no_grad returns NaN (or differs from ATen's convolution) right after a training step of another model, with
/// oneDNN convolutions everywhere, and with oneDNN for the training step only (eval forwards through ATen). Then, with
/// <c>--gradient-checks N</c>, N rounds of the library's convolution gradient check through oneDNN (the AVX-512 defect).
/// The defects this measures are described in the library's Runtime/OneDnnConvolutions.cs; ATen's result is the
/// reference. Run it with ONEDNN_MAX_CPU_ISA set to try an ISA other than the library's choice.
/// </summary>
static class OneDnnCheck
{
    public static int Run(Args args)
    {
        int iterations = args.Int("iterations", 400);
        int threads = args.Int("threads", 2);
        int gradientChecks = args.Int("gradient-checks", 0);
        args.EnsureAllUsed();
        Console.WriteLine(string.Join("; ", NativeRuntimePolicy.Describe()));
        set_num_threads(threads);
        foreach (var (mode, evalWithAten) in new[] { ("oneDNN everywhere", false), ("oneDNN for training, ATen for eval", true) })
        {
            bool allowed = NativeRuntimePolicy.ConfigureConvolutions(useOneDnn: true, Console.Error.WriteLine);
            if (!allowed) Console.WriteLine("oneDNN's gradients failed the library's check: the rows below are ATen against ATen.");
            // Configure makes ATen the process default; "everywhere" keeps oneDNN on for the eval forward too.
            using var everywhere = evalWithAten ? null : NativeRuntimePolicy.OneDnnForTrainingStep(allowed);
            manual_seed(3);
            using var student = Net(8);
            manual_seed(8);
            using var teacher = Net(12);
            teacher.eval();
            using var input = randn(16, 3, 16, 16);
            using var optimizer = optim.AdamW(student.parameters(), lr: 1e-3);
            int nan = 0, wrong = 0, trainNan = 0;
            double worst = 0, worstTrain = 0;
            for (int i = 0; i < iterations; i++)
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                using var step = NativeRuntimePolicy.OneDnnForTrainingStep(allowed);
                var logits = student.forward(input);
                // The training forward itself against ATen's (same weights, batch statistics, no autograd).
                using (no_grad())
                using (NativeRuntimePolicy.AtenConvolutions())
                {
                    double trainDiff = logits.detach().sub(student.forward(input)).abs().max().item<float>();
                    worstTrain = Math.Max(worstTrain, double.IsNaN(trainDiff) ? double.PositiveInfinity : trainDiff);
                }
                var loss = logits.pow(2).mean();
                if (!loss.isfinite().item<bool>()) trainNan++;
                loss.backward();
                optimizer.step();
                step.Dispose();
                using var noGrad = no_grad();
                Tensor output;
                using (evalWithAten ? NativeRuntimePolicy.AtenConvolutions() : null) output = teacher.forward(input);
                Tensor reference;
                using (NativeRuntimePolicy.AtenConvolutions()) reference = teacher.forward(input);
                if (output.isnan().any().item<bool>()) { nan++; continue; }
                double diff = output.sub(reference).abs().max().item<float>();
                worst = Math.Max(worst, diff);
                if (diff > 1e-3) wrong++;
            }
            Console.WriteLine($"{mode}: {iterations} iterations, {threads} threads: eval NaN {nan}, eval differing from ATen by > 1e-3 {wrong} (largest finite difference {worst:G3}), non-finite training loss {trainNan}, largest training-forward difference from ATen {worstTrain:G3}.");
        }
        if (gradientChecks > 0) CheckGradients(gradientChecks, threads);
        NativeRuntimePolicy.ConfigureConvolutions(useOneDnn: false, _ => { });
        return 0;
    }

    // The library's check (two narrow convolutions, 3 times each) through oneDNN, many times: the AVX-512 defect showed
    // on some calls only.
    static void CheckGradients(int rounds, int threads)
    {
        int failed = 0;
        string first = "";
        for (int i = 0; i < rounds; i++)
        {
            using var oneDnn = NativeRuntimePolicy.OneDnnForTrainingStep(true);
            if (OneDnnConvolutions.GradientsAreCorrect(out string detail)) continue;
            if (failed++ == 0) first = $" (first: round {i + 1}, {detail})";
        }
        Console.WriteLine($"gradient check through oneDNN: {rounds} rounds of 6 convolutions, {threads} threads: {failed} failed{first}.");
    }

    static TorchSharp.Modules.Sequential Net(int width) => nn.Sequential(
        nn.Conv2d(3, width, 3, padding: 1, bias: false), nn.BatchNorm2d(width), nn.ReLU(),
        nn.Conv2d(width, 2 * width, 3, stride: 2, padding: 1, bias: false), nn.BatchNorm2d(2 * width), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * width, 10));
}

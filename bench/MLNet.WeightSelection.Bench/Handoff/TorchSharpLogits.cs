using MLNet.WeightSelection.Bench.Infra;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Bench.Handoff;

/// <summary>
/// <c>torchsharp-logits --model NAME --num-classes N --weights FILE --out IO --image-size S [--seed 5]</c>: loads a
/// student state dict written by <c>ws select</c> into the library's model of that preset (strictly), and writes a fixed
/// batch <c>x</c> (2 images, standard normal from the seed) and the model's eval-mode logits on it, for
/// bench/python/timm_handoff.py to compare with timm's own model on the same file.
/// </summary>
static class TorchSharpLogits
{
    public static int Run(Args args)
    {
        string model = args.Required("model");
        int classes = args.Int("num-classes", 10);
        string weights = args.Required("weights");
        string output = args.Required("out");
        int imageSize = args.Int("image-size", 224);
        int seed = args.Int("seed", 5);
        args.EnsureAllUsed();

        set_num_threads(1);
        using var student = ModelRegistry.Create(model, numClasses: classes, imgSize: imageSize);
        using (var file = Checkpoint.Open(weights)) student.LoadStateDict(file, strict: true);
        student.eval();
        using var generator = new Generator((ulong)seed);
        using var x = randn(new long[] { 2, 3, imageSize, imageSize }, generator: generator);
        using var noGrad = no_grad();
        using var logits = student.forward(x);
        SafeTensorsWriter.Save(output, new Dictionary<string, Tensor> { ["x"] = x, ["logits"] = logits },
            new Dictionary<string, string> { ["model"] = model, ["weights"] = Path.GetFileName(weights) });
        ChildProcess.Report(new() { ["model"] = model, ["logits_shape"] = logits.shape });
        return 0;
    }
}

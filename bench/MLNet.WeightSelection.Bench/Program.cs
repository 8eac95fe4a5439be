using MLNet.WeightSelection.Bench.Infra;
using MLNet.WeightSelection.Bench.Selection;

namespace MLNet.WeightSelection.Bench;

/// <summary>
/// Benchmarks and real-data experiments of issue 6 (bench/README.md). Each command writes its figures to
/// bench/results/NAME.json (+ .md) with the command line, the machine and the load; big files go to bench/out.
/// </summary>
static class Program
{
    static readonly Dictionary<string, (string Help, Func<Args, string[], int> Run)> Commands = new(StringComparer.Ordinal)
    {
        ["selection"] = ("section 1: selection time and peak memory vs the floor and PyTorch [--rounds 3]", SelectionBenchmark.Run),
        ["throughput"] = ("section 2: training images/s vs PyTorch and the GEMM rate, data share [--rounds 3 --threads 2]", Throughput.ThroughputBenchmark.Run),
        ["inference"] = ("section 3: latency and throughput: student via ML.NET/ONNX Runtime/TorchSharp vs featurizer [--rounds 3]", Inference.InferenceBenchmark.Run),
        ["fmnist-resnet"] = ("section 4: half-width ResNet on Fashion-MNIST subsets: weight selection vs random vs featurizer [--sizes 1000,5000 --seeds 1,2]", Accuracy.ResNetExperiment.Run),
        ["fmnist-defaults"] = ("issue 13: the estimator's defaults (through Fit) on Fashion-MNIST subsets, with and without teacher adaptation [--sizes 1000,5000 --seeds 1,2,3 --methods new,new-noadapt,random]", Accuracy.DefaultsExperiment.Run),
        ["vit-pretrain"] = ("section 4: pretrain the ViT teacher on classes 0-4, resumable [--embed 192 --epochs 30]", Accuracy.VitPretrain.Run),
        ["vit-transfer"] = ("section 4: ViT students on classes 5-9, weight selection vs random, curves, probe [--teacher-embed 192 --probe]", Accuracy.VitTransfer.Run),
        ["safetensors-header"] = ("issue 12: open + ws inspect of 99 MB and 1,000,000-tensor headers vs a normal file, against a baseline build [--rounds 3 --baseline-ws PATH]", (a, raw) => Header.HeaderBenchmark.Run(a, raw)),
        // Children of the benchmarks (measured as separate processes).
        ["make-teacher"] = ("child: write a random-weight teacher (--model, --out)", (a, _) => SelectionChildren.MakeTeacher(a)),
        ["read-file"] = ("child: read a file once (--file)", (a, _) => SelectionChildren.ReadFile(a)),
        ["select"] = ("child: select a student from a teacher (--teacher, --student, --out)", (a, _) => SelectionChildren.Select(a)),
        ["profile-read"] = ("diagnostic: time one selected read, cold and warm (--teacher)", (a, _) => ReadProfile.Run(a)),
        ["check-init"] = ("diagnostic: count NaNs written by TorchSharp trunc_normal_", (a, _) => Diagnostics.InitCheck.Run(a)),
        ["check-kd-forward"] = ("diagnostic: the distillation teacher's forward after each student step, ATen vs oneDNN: time, differences, NaN [--steps 40 --image-size 56]", (a, _) => Diagnostics.KdForwardCheck.Run(a)),
        ["check-onednn"] = ("diagnostic: NaN from eval convolutions after a training step, oneDNN everywhere vs ATen for eval", (a, _) => Diagnostics.OneDnnCheck.Run(a)),
        ["open-header"] = ("child: open a safetensors file and read every tensor's info (--file)", (a, _) => Header.HeaderChildren.OpenHeader(a)),
        ["data-scale"] = ("issue 15: peak memory and data share of step time reading and training on 20,000 to 200,000 images, in memory vs memory-mapped [--cases 20000x64:memory,20000x64:file,200000x64,60000x224 --steps 30]", DataScale.DataScaleBenchmark.Run),
        ["data-scale-read"] = ("issue 15: reading N images through Fit's reading path on one thread vs all cores (and the float read before), same run, round by round [--images 2000 --size 224 --rounds 3 --kinds pixels,png,files --threads floats,1,auto]", DataScale.ReadThreadsBenchmark.Run),
        ["data-scale-case"] = ("child: one data-scale case (--images, --size, --steps, --threads)", (a, _) => DataScale.DataScaleBenchmark.Case(a)),
        ["torchsharp-logits"] = ("child: a ws-selected student's logits on a fixed batch, for bench/timm-handoff.sh (--model, --num-classes, --weights, --out, --image-size)", (a, _) => Handoff.TorchSharpLogits.Run(a)),
        ["runtime-baseline"] = ("child: start libtorch and exit", (a, _) => SelectionChildren.RuntimeBaseline(a)),
    };

    static int Main(string[] args)
    {
        if (args.Length == 0 || !Commands.TryGetValue(args[0], out var command))
        {
            Console.Error.WriteLine("Usage: bench/bench.sh COMMAND [--option value ...]\nCommands:");
            foreach (var (name, (help, _)) in Commands) Console.Error.WriteLine($"  {name,-18} {help}");
            return args.Length == 0 || args[0] is "help" or "--help" ? 0 : 2;
        }
        return command.Run(new Args(args.Skip(1)), args);
    }
}

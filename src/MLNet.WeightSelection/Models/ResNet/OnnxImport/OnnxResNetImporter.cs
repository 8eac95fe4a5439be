using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Checkpoints.Onnx;
using MLNet.WeightSelection.Models.Onnx;
using MLNet.WeightSelection.Models;
using Onnx;
using TorchSharp;
using static MLNet.WeightSelection.Checkpoints.Onnx.OnnxGraphIndex;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.ResNet;

/// <summary>
/// Imports a pretrained ResNet from ONNX as a timm-named state dict: a <c>checkpoint_filter_fn</c> for ONNX. Roles are
/// recovered by walking the graph, not from initializer names, so CNTK exports (ML.NET's
/// <c>DnnImageModels/ResNet18Onnx/ResNet18.onnx</c>, initializers <c>Parameter91</c>, <c>Constant98</c>) and PyTorch
/// exports (readable names, or BatchNorm folded into the convs) both import.
/// </summary>
public static class OnnxResNetImporter
{
    /// <summary>timm's BatchNorm2d epsilon; a folded conv gets statistics that make its BatchNorm an identity under it.</summary>
    const float TimmEpsilon = 1e-5f;

    /// <summary>Imports the ResNet at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is not ONNX, or its graph is not a ResNet timm can reproduce (the message names the file, the node and
    /// what was expected).
    /// </exception>
    public static OnnxResNetImport Import(string path, OnnxImportOptions? options = null)
    {
        options ??= new OnnxImportOptions();
        var graph = new OnnxGraphIndex(OnnxModelFile.Load(path), path);
        var resnet = ResNetGraphWalker.Walk(graph);
        var notes = new List<string>();

        var (block, expansion) = BlockType(graph, resnet);
        var trunk = new List<(string Layer, Window Onnx)>();
        var paddings = new List<OnnxPadding>();
        CheckGeometry(graph, resnet, block, trunk, paddings);

        var weights = new StateDict(path);
        try
        {
            int folded = 0;
            folded += AddConvNorm(graph, weights, "conv1", "bn1", resnet.Stem);
            for (int s = 0; s < resnet.Stages.Count; s++)
                for (int b = 0; b < resnet.Stages[s].Count; b++)
                {
                    var blk = resnet.Stages[s][b];
                    string prefix = $"layer{s + 1}.{b}.";
                    for (int u = 0; u < blk.Main.Count; u++)
                        folded += AddConvNorm(graph, weights, $"{prefix}conv{u + 1}", $"{prefix}bn{u + 1}", blk.Main[u]);
                    if (blk.Downsample is { } ds)
                        folded += AddConvNorm(graph, weights, $"{prefix}downsample.0", $"{prefix}downsample.1", ds);
                }

            var stages = resnet.Stages;
            int[] layers = stages.Select(st => st.Count).ToArray();
            int[] channels = stages.Select(st => (int)(st[0].Main[^1].OutChannels / expansion)).ToArray();
            CheckInnerWidths(graph, stages, channels);
            int numClasses = resnet.Classifier is { } head ? AddClassifier(graph, weights, head, channels[^1] * expansion) : 0;
            (int H, int W)? imageSize = resnet.InputSize is { } size ? ((int)size.H, (int)size.W) : null;
            var (input, inputSource) = Convention(graph, resnet, options, notes);
            var spec = new ResNetSpec
            {
                Block = block == "basic" ? ResNetBlock.Basic : ResNetBlock.Bottleneck,
                Layers = layers,
                Channels = channels,
                PlainStemWidth = resnet.Stem.OutChannels == 64 ? null : (int)resnet.Stem.OutChannels,
                InChans = (int)resnet.Stem.InChannels,
                NumClasses = numClasses,
                ImageSize = imageSize?.H ?? 224,
                Input = input,
            };
            spec.Validate();

            if (numClasses == 0)
                notes.Add("No classifier: the graph ends at the pooled features, so fc.weight and fc.bias are absent (a features-only teacher); "
                    + "a student's classifier keeps its own initialization.");
            if (folded > 0)
                notes.Add($"{folded} convolutions have BatchNorm folded in (a conv bias and no BatchNormalization); their bn tensors are set to an "
                    + "identity (weight 1, running_mean 0, running_var 1 − 1e-5) with the folded bias as bn bias, so outputs are unchanged.");
            if (paddings.Count > 0)
                notes.Add($"Asymmetric padding in {paddings.Count} layers ({string.Join("; ", paddings)}). timm pads symmetrically with the same "
                    + "leading pads, so results are identical whenever both give the same output size (check PaddingMatchesTimm): "
                    + "with trailing pads one smaller, image sides that are multiples of 32, such as 224.");
            if (resnet.GlobalPool.OpType == "AveragePool")
                notes.Add($"Global pooling is a fixed {resnet.PooledSize?.H}x{resnet.PooledSize?.W} AveragePool ({Describe(resnet.GlobalPool)}), "
                    + "global only at the graph's input size; timm's model pools globally at any size.");
            return new OnnxResNetImport(path, weights, spec, inputSource, imageSize, paddings, trunk, notes);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    static (string Block, int Expansion) BlockType(OnnxGraphIndex graph, ResNetGraph resnet)
    {
        int units = resnet.Stages[0][0].Main.Count;
        foreach (var (stage, s) in resnet.Stages.Select((st, i) => (st, i)))
            foreach (var (blk, b) in stage.Select((bl, i) => (bl, i)))
                if (blk.Main.Count != units)
                    throw graph.Fail($"layer{s + 1}.{b} has {blk.Main.Count} convs on its main path but layer1.0 has {units}; expected one block type throughout.");
        return units == 2 ? ("basic", 1) : ("bottleneck", 4);
    }

    /// <summary>Checks kernels, strides and leading pads against timm's ResNet and collects the asymmetric paddings.</summary>
    static void CheckGeometry(OnnxGraphIndex graph, ResNetGraph resnet, string block, List<(string, Window)> trunk, List<OnnxPadding> paddings)
    {
        void Check(string layer, Window w, long kernel, long stride, bool onTrunk)
        {
            long pad = ((stride - 1) + (kernel - 1)) / 2; // timm's get_padding for dilation 1
            if (w.Kernel.Any(k => k != kernel) || w.Strides.Any(s => s != stride))
                throw graph.Fail($"{layer} has a {w.Kernel[0]}x{w.Kernel[1]} window with stride {w.Strides[0]}x{w.Strides[1]}; "
                    + $"timm's {block} ResNet has {kernel}x{kernel} with stride {stride} there.");
            if (w.Pads[0] != pad || w.Pads[1] != pad)
                throw graph.Fail($"{layer} pads [{string.Join(", ", w.Pads)}]; timm pads {pad} on every side and needs at least the same leading pads.");
            if (onTrunk) trunk.Add((layer, w));
            if (!w.IsSymmetric)
                paddings.Add(new OnnxPadding(layer, w.Pads, new[] { pad, pad, pad, pad }, w.Kernel, w.Strides));
        }

        Check("conv1", resnet.Stem.Window, 7, 2, true);
        Check("maxpool", resnet.StemPoolWindow, 3, 2, true);
        for (int s = 0; s < resnet.Stages.Count; s++)
            for (int b = 0; b < resnet.Stages[s].Count; b++)
            {
                var blk = resnet.Stages[s][b];
                long stride = s > 0 && b == 0 ? 2 : 1;
                string prefix = $"layer{s + 1}.{b}.";
                if (block == "basic")
                {
                    Check(prefix + "conv1", blk.Main[0].Window, 3, stride, true);
                    Check(prefix + "conv2", blk.Main[1].Window, 3, 1, true);
                }
                else
                {
                    Check(prefix + "conv1", blk.Main[0].Window, 1, 1, true);
                    Check(prefix + "conv2", blk.Main[1].Window, 3, stride, true);
                    Check(prefix + "conv3", blk.Main[2].Window, 1, 1, true);
                }
                if (blk.Downsample is { } ds) Check(prefix + "downsample.0", ds.Window, 1, stride, false);
                else if (stride != 1) throw graph.Fail($"{prefix.TrimEnd('.')} is strided but has no downsample shortcut.");
            }
    }

    /// <summary>Adds one conv and its BatchNorm under timm's names; returns 1 when BatchNorm was folded into the conv.</summary>
    static int AddConvNorm(OnnxGraphIndex graph, StateDict weights, string conv, string norm, ConvUnit unit)
    {
        using var scope = NewDisposeScope();
        var w = Read(graph, unit.Conv.Input[1], unit.Conv);
        long channels = w.shape[0];
        Tensor? convBias = unit.Conv.Input.Count > 2 && unit.Conv.Input[2].Length > 0 ? Read(graph, unit.Conv.Input[2], unit.Conv) : null;
        if (convBias is not null && convBias.numel() != channels)
            throw graph.Fail($"{Describe(unit.Conv)} has {convBias.numel()} biases for {channels} output channels.");

        Tensor gamma, beta, mean, variance;
        if (unit.Norm is { } bn)
        {
            (gamma, beta, mean, variance) = (Read(graph, bn.Input[1], bn), Read(graph, bn.Input[2], bn), Read(graph, bn.Input[3], bn), Read(graph, bn.Input[4], bn));
            foreach (var (t, role) in new[] { (gamma, "scale"), (beta, "bias"), (mean, "mean"), (variance, "variance") })
                if (t.numel() != channels)
                    throw graph.Fail($"{Describe(bn)}: its {role} has {t.numel()} values; expected {channels}, the channels of {Describe(unit.Conv)}.");
            // timm's convs have no bias; BN(x + c) equals BN(x) with the running mean shifted by −c.
            if (convBias is not null) mean = mean - convBias;
        }
        else
        {
            gamma = ones(channels);
            beta = convBias is not null ? convBias : zeros(channels);
            mean = zeros(channels);
            variance = full(channels, 1f - TimmEpsilon);
        }
        weights.Add($"{conv}.weight", w.contiguous().DetachFromDisposeScope());
        weights.Add($"{norm}.weight", gamma.reshape(channels).contiguous().DetachFromDisposeScope());
        weights.Add($"{norm}.bias", beta.reshape(channels).contiguous().DetachFromDisposeScope());
        weights.Add($"{norm}.running_mean", mean.reshape(channels).contiguous().DetachFromDisposeScope());
        weights.Add($"{norm}.running_var", variance.reshape(channels).contiguous().DetachFromDisposeScope());
        weights.Add($"{norm}.num_batches_tracked", tensor(0L).DetachFromDisposeScope());
        return unit.Norm is null && convBias is not null ? 1 : 0;
    }

    static int AddClassifier(OnnxGraphIndex graph, StateDict weights, ClassifierNodes head, int numFeatures)
    {
        using var scope = NewDisposeScope();
        var linear = head.Linear;
        Tensor weight, bias;
        if (linear.OpType == "Gemm")
        {
            if (Int(linear, "transA", 0) != 0)
                throw graph.Fail($"{Describe(linear)} transposes its features (transA); expected features × weight.");
            weight = Read(graph, linear.Input[1], linear);
            if (Int(linear, "transB", 0) == 0) weight = weight.t();
            weight = weight * (Float(linear, "alpha") ?? 1f);
            bias = linear.Input.Count > 2 && linear.Input[2].Length > 0
                ? Read(graph, linear.Input[2], linear).reshape(-1) * (Float(linear, "beta") ?? 1f)
                : zeros(weight.shape[0]);
        }
        else
        {
            weight = Read(graph, linear.Input[1], linear).t();
            bias = head.BiasAdd is { } add
                ? Read(graph, graph.Source(add.Input[0]) == linear.Output[0] ? add.Input[1] : add.Input[0], add).reshape(-1)
                : zeros(weight.shape[0]);
        }
        if (weight.dim() != 2 || weight.shape[1] != numFeatures || bias.numel() != weight.shape[0])
            throw graph.Fail($"{Describe(linear)}: classifier weight [{string.Join(", ", weight.shape)}] and {bias.numel()} biases "
                + $"do not fit {numFeatures} pooled features; expected [classes, {numFeatures}] and one bias per class.");
        weights.Add("fc.weight", weight.contiguous().DetachFromDisposeScope());
        weights.Add("fc.bias", bias.contiguous().DetachFromDisposeScope());
        return (int)weight.shape[0];
    }

    static Tensor Read(OnnxGraphIndex graph, string name, NodeProto user) =>
        OnnxTensors.ToFloatTensor(graph.Constant(name, user), graph.Origin, graph.ModelDirectory);

    static void CheckInnerWidths(OnnxGraphIndex graph, IReadOnlyList<IReadOnlyList<ResidualBlock>> stages, int[] channels)
    {
        for (int s = 0; s < stages.Count; s++)
            for (int b = 0; b < stages[s].Count; b++)
                foreach (var unit in stages[s][b].Main.Take(stages[s][b].Main.Count - 1))
                    if (unit.OutChannels != channels[s])
                        throw graph.Fail($"layer{s + 1}.{b}: {Describe(unit.Conv)} has {unit.OutChannels} output channels where a ResNet block of "
                            + $"{channels[s]} planes has {channels[s]}; wide ResNets (base_width other than 64) are not supported.");
    }

    static (InputConvention, string) Convention(OnnxGraphIndex graph, ResNetGraph resnet, OnnxImportOptions options, List<string> notes)
    {
        string path = graph.Origin;
        if (options.Input is { } given) return (given, "given in OnnxImportOptions.Input");
        string? prep = options.PreprocessingModelPath;
        if (prep is null && resnet.Normalization.Count > 0)
        {
            var inGraph = OnnxPreprocessing.Interpret(graph, resnet.InputName, (int)resnet.Stem.InChannels, resnet.Normalization, resnet.NormalizedInput);
            notes.Add($"The graph normalizes its input itself ({inGraph.Description}): the convention is read from those nodes, "
                + "and the imported weights expect input normalized that way.");
            return (inGraph.Convention, "the graph's own input normalization");
        }
        if (prep is null)
        {
            // ML.NET's DnnImageFeaturizer packages ship the network and its preprocessing side by side.
            string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
            string candidate = Path.Combine(folder ?? ".", "..", "ResNetPrepOnnx", "ResNetPreprocess.onnx");
            if (File.Exists(candidate)) prep = Path.GetFullPath(candidate);
        }
        if (prep is null)
        {
            notes.Add("No preprocessing model and no convention given: assumed timm's ImageNet convention (RGB, 0–1, ImageNet mean and std), "
                + "as torchvision exports use. Pass OnnxImportOptions.Input if the model was trained otherwise.");
            return (InputConvention.ImageNet, "assumed (timm's ImageNet default)");
        }
        var info = OnnxPreprocessing.Read(prep);
        var c = info.Convention;
        notes.Add($"Input convention from {prep}: {info.Description}. As a convention: {c.Order}, raw pixels / {c.Scale}, "
            + $"mean ({string.Join(", ", c.Mean.Select(m => m.ToString("0.###")))}), std ({string.Join(", ", c.Std.Select(m => m.ToString("0.###")))})"
            + (info.MaxMeanDeviation > 0 ? $"; the original subtracts a per-pixel mean image, up to {info.MaxMeanDeviation:0.##} from these channel means." : "."));
        return (c, prep);
    }
}

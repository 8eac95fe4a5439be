using MLNet.WeightSelection.Checkpoints.Onnx;
using MLNet.WeightSelection.Models.Onnx;
using Onnx;
using static MLNet.WeightSelection.Checkpoints.Onnx.OnnxGraphIndex;

namespace MLNet.WeightSelection.Models.ResNet;

/// <summary>
/// Recovers a ResNet's roles from an ONNX graph by following the data flow from the image input: stem
/// Conv → BatchNormalization → Relu → MaxPool, then residual blocks (Conv → BN → Relu … → Add ← shortcut, Relu),
/// then global pooling and an optional classifier. Initializer names play no part, so CNTK's <c>Parameter91</c>,
/// torchvision's <c>layer1.0.conv1.weight</c> and torch.onnx's folded <c>onnx::Conv_193</c> all work.
/// </summary>
internal sealed class ResNetGraphWalker
{
    const string Expected = "a ResNet (stem Conv → BatchNormalization → Relu → MaxPool, residual blocks, global pooling)";
    readonly OnnxGraphIndex _graph;

    ResNetGraphWalker(OnnxGraphIndex graph) => _graph = graph;

    /// <summary>Walks <paramref name="graph"/>; throws <see cref="InvalidDataException"/> naming the file when it is not a ResNet.</summary>
    public static ResNetGraph Walk(OnnxGraphIndex graph) => new ResNetGraphWalker(graph).Walk();

    ResNetGraph Walk()
    {
        if (_graph.DataInputs.Count != 1)
            throw _graph.Fail($"expected {Expected} with one image input [N, C, H, W]; the graph has {_graph.DataInputs.Count} non-constant inputs.");
        var input = _graph.DataInputs[0];
        SpatialSize? size = SpatialOf(input);

        var (prefix, normalized) = Normalization(input.Name);
        var first = Expect(_graph.SingleConsumer(normalized, $"the stem Conv of {Expected}"), "Conv", "the stem convolution");
        var (stem, stemOut) = ReadUnit(first, ref size);
        var stemRelu = Expect(_graph.SingleConsumer(stemOut, "the stem's Relu"), "Relu", "the stem's Relu");
        var stemPool = Expect(_graph.SingleConsumer(stemRelu.Output[0], "the stem's MaxPool"), "MaxPool", "the stem's MaxPool");
        if (Int(stemPool, "ceil_mode", 0) != 0)
            throw _graph.Fail($"{Describe(stemPool)} uses ceil_mode; timm's ResNet max-pools in floor mode.");
        var poolWindow = ReadWindow(stemPool, Ints(stemPool, "kernel_shape", Array.Empty<long>()), size);
        size = size is { } s ? poolWindow.Apply(s) : null;

        string trunk = stemPool.Output[0];
        var blocks = new List<ResidualBlock>();
        NodeProto? globalPool = null;
        while (globalPool is null)
        {
            var consumers = _graph.Consumers(trunk);
            if (consumers.Count == 1 && IsPooling(consumers[0])) { globalPool = consumers[0]; break; }
            if (blocks.Count > 1000) throw _graph.Fail("the residual chain does not end in pooling.");
            var (block, output) = ReadBlock(trunk, consumers, blocks.Count, ref size);
            blocks.Add(block);
            trunk = output;
        }
        if (blocks.Count == 0)
            throw _graph.Fail($"expected {Expected}; no residual block follows the stem's MaxPool.");
        CheckPooling(globalPool, size);

        var stages = SplitStages(blocks);
        var classifier = ReadClassifier(globalPool.Output[0]);
        return new ResNetGraph(input.Name, SpatialOf(input), prefix, normalized, stem, stemPool, poolWindow, stages, globalPool, size, classifier);
    }

    (ResidualBlock Block, string Output) ReadBlock(string trunk, IReadOnlyList<NodeProto> consumers, int index, ref SpatialSize? size)
    {
        var convs = consumers.Where(n => n.OpType == "Conv").ToList();
        var adds = consumers.Where(n => n.OpType == "Add").ToList();
        bool identity = convs.Count == 1 && adds.Count == 1 && consumers.Count == 2;
        bool projected = convs.Count == 2 && consumers.Count == 2;
        if (!identity && !projected)
            throw _graph.Fail($"expected residual block {index} (or global pooling) after '{trunk}', which feeds {string.Join(", ", consumers.Select(Describe))}; "
                + "a residual block feeds one Conv and the Add (identity shortcut) or two Convs (downsample shortcut).");

        var branches = new List<(List<ConvUnit> Units, NodeProto Add, string Output, SpatialSize? Size)>();
        foreach (var conv in convs)
        {
            var branchSize = size;
            var (units, branchAdd, output) = FollowBranch(conv, ref branchSize);
            branches.Add((units, branchAdd, output, branchSize));
        }
        var add = branches[0].Add;
        if (branches.Any(b => b.Add != add) || (identity && adds[0] != add))
            throw _graph.Fail($"the two paths of residual block {index} (from '{trunk}') do not meet at one Add.");
        var main = branches.OrderByDescending(b => b.Units.Count).First();
        if (main.Units.Count < 2)
            throw _graph.Fail($"residual block {index}: its main path has {main.Units.Count} conv; expected 2 (basic) or 3 (bottleneck).");
        ConvUnit? downsample = null;
        if (projected)
        {
            var shortcut = branches.First(b => !ReferenceEquals(b.Units, main.Units));
            if (shortcut.Units.Count != 1)
                throw _graph.Fail($"residual block {index}: both paths have several convs; expected a main path and a single-conv downsample.");
            downsample = shortcut.Units[0];
        }
        if (add.Input.Count != 2 || !add.Input.Select(_graph.Source).Contains(main.Output))
            throw _graph.Fail($"residual block {index}: {Describe(add)} does not add the main path's output.");

        var relu = Expect(_graph.SingleConsumer(add.Output[0], $"the Relu after residual block {index}"), "Relu", $"the Relu after residual block {index}'s Add");
        size = main.Size;
        return (new ResidualBlock(main.Units, downsample), relu.Output[0]);
    }

    (List<ConvUnit> Units, NodeProto Add, string Output) FollowBranch(NodeProto conv, ref SpatialSize? size)
    {
        var units = new List<ConvUnit>();
        var node = conv;
        while (true)
        {
            var (unit, output) = ReadUnit(node, ref size);
            units.Add(unit);
            if (units.Count > 3)
                throw _graph.Fail($"a residual path starting at {Describe(conv)} has more than 3 convolutions; expected a basic or bottleneck block.");
            var next = _graph.SingleConsumer(output, "a Relu or the residual Add");
            if (next.OpType == "Add") return (units, next, output);
            Expect(next, "Relu", $"the Relu after {Describe(node)}");
            node = Expect(_graph.SingleConsumer(next.Output[0], "the next Conv of the block"), "Conv", $"the conv after {Describe(next)}");
        }
    }

    (ConvUnit Unit, string Output) ReadUnit(NodeProto conv, ref SpatialSize? size)
    {
        if (conv.Input.Count < 2 || !_graph.IsConstant(conv.Input[1]))
            throw _graph.Fail($"{Describe(conv)} has no constant weight; expected a Conv whose weight is an initializer.");
        var weight = _graph.Constant(conv.Input[1], conv);
        if (weight.Dims.Count != 4)
            throw _graph.Fail($"{Describe(conv)} has a {weight.Dims.Count}-D weight; expected a 2-D convolution weight [out, in, kh, kw].");
        if (Int(conv, "group", 1) != 1)
            throw _graph.Fail($"{Describe(conv)} is a grouped convolution; timm's basic and bottleneck ResNet blocks use group 1.");
        if (Ints(conv, "dilations", new long[] { 1, 1 }).Any(d => d != 1))
            throw _graph.Fail($"{Describe(conv)} is dilated; timm's default ResNet is not.");
        var window = ReadWindow(conv, new[] { weight.Dims[2], weight.Dims[3] }, size);
        size = size is { } s ? window.Apply(s) : null;

        string output = conv.Output[0];
        NodeProto? norm = null;
        var next = _graph.Consumers(output);
        if (next.Count == 1 && next[0].OpType == "BatchNormalization")
        {
            norm = next[0];
            CheckNorm(norm);
            output = norm.Output[0];
        }
        return (new ConvUnit(conv, norm, window, weight.Dims[0], weight.Dims[1]), output);
    }

    void CheckNorm(NodeProto norm)
    {
        if (norm.Input.Count < 5 || Enumerable.Range(1, 4).Any(i => !_graph.IsConstant(norm.Input[i])))
            throw _graph.Fail($"{Describe(norm)} needs constant scale, bias, mean and variance; expected an inference-mode BatchNormalization.");
        // ONNX's default epsilon is 1e-5, timm's BatchNorm2d uses the same; another value would change the outputs.
        float epsilon = Float(norm, "epsilon") ?? 1e-5f;
        if (Math.Abs(epsilon - 1e-5f) > 1e-9f)
            throw _graph.Fail($"{Describe(norm)} has epsilon {epsilon}; expected 1e-5, the epsilon of timm's BatchNorm2d.");
        if (Int(norm, "spatial", 1) != 1)
            throw _graph.Fail($"{Describe(norm)} is not spatial (per-element statistics); expected per-channel BatchNormalization.");
        if (Int(norm, "training_mode", 0) != 0 || norm.Output.Count > 1 && norm.Output.Skip(1).Any(o => o.Length > 0))
            throw _graph.Fail($"{Describe(norm)} is in training mode; expected inference-mode BatchNormalization.");
    }

    Window ReadWindow(NodeProto node, long[] kernel, SpatialSize? input)
    {
        if (kernel.Length != 2)
            throw _graph.Fail($"{Describe(node)} has a {kernel.Length}-D window; expected 2-D.");
        var strides = Ints(node, "strides", new long[] { 1, 1 });
        string autoPad = String(node, "auto_pad", "NOTSET");
        long[] pads;
        switch (autoPad)
        {
            case "NOTSET" or "":
                pads = Ints(node, "pads", new long[] { 0, 0, 0, 0 });
                break;
            case "VALID":
                pads = new long[] { 0, 0, 0, 0 };
                break;
            case "SAME_UPPER" or "SAME_LOWER" when input is { } s:
                pads = SamePads(kernel, strides, s, autoPad == "SAME_UPPER");
                break;
            default:
                throw _graph.Fail($"{Describe(node)} uses auto_pad {autoPad} on an input of unknown size; expected explicit pads.");
        }
        if (pads.Length != 4 || strides.Length != 2)
            throw _graph.Fail($"{Describe(node)} has pads [{string.Join(", ", pads)}] and strides [{string.Join(", ", strides)}]; expected 2-D values.");
        return new Window(kernel, strides, pads);
    }

    static long[] SamePads(long[] kernel, long[] strides, SpatialSize input, bool upper)
    {
        long[] result = new long[4];
        long[] sizes = { input.H, input.W };
        for (int i = 0; i < 2; i++)
        {
            long outSize = (sizes[i] + strides[i] - 1) / strides[i];
            long total = Math.Max(0, (outSize - 1) * strides[i] + kernel[i] - sizes[i]);
            long small = total / 2, large = total - small;
            result[i] = upper ? small : large;
            result[i + 2] = upper ? large : small;
        }
        return result;
    }

    /// <summary>
    /// Input normalization written into the graph before the stem (as this library's export writes it): channel
    /// reordering and per-channel affine steps. Returns those nodes and the value the stem reads.
    /// </summary>
    (List<NodeProto> Nodes, string Output) Normalization(string input)
    {
        var nodes = new List<NodeProto>();
        string value = input;
        while (_graph.Consumers(value) is { Count: 1 } consumers && consumers[0].OpType != "Conv"
            && OnnxPreprocessing.IsPreprocessingOp(consumers[0].OpType))
        {
            var node = consumers[0];
            if (node.OpType == "Split")
            {
                // The planes of a Split come back together in one Concat.
                var joins = node.Output.SelectMany(o => _graph.Consumers(o)).Distinct().ToList();
                if (joins.Count != 1 || joins[0].OpType != "Concat") break;
                nodes.Add(node);
                node = joins[0];
            }
            else if (node.OpType == "Concat" || (node.Input.Count > 1 && !node.Input.Where(i => _graph.Source(i) != value).All(_graph.IsConstant))) break;
            nodes.Add(node);
            value = node.Output[0];
        }
        return (nodes, value);
    }

    static bool IsPooling(NodeProto node) => node.OpType is "GlobalAveragePool" or "AveragePool" or "ReduceMean";

    void CheckPooling(NodeProto pool, SpatialSize? size)
    {
        switch (pool.OpType)
        {
            case "GlobalAveragePool":
                return;
            case "AveragePool":
                // CNTK writes global pooling as a fixed window; it is global only when the window covers the map.
                var kernel = Ints(pool, "kernel_shape", Array.Empty<long>());
                var pads = Ints(pool, "pads", new long[] { 0, 0, 0, 0 });
                if (pads.Any(p => p != 0) || size is not { } s || kernel.Length != 2 || kernel[0] != s.H || kernel[1] != s.W)
                    throw _graph.Fail($"{Describe(pool)} averages a [{string.Join(", ", kernel)}] window over a "
                        + (size is { } m ? $"{m.H}x{m.W}" : "size-unknown") + " map; expected global average pooling.");
                return;
            case "ReduceMean":
                var axes = Ints(pool, "axes", Array.Empty<long>());
                if (axes.Length == 0 && pool.Input.Count > 1 && _graph.IsConstant(pool.Input[1]))
                    axes = OnnxTensors.ToLongs(_graph.Constant(pool.Input[1], pool), _graph.Origin, _graph.ModelDirectory);
                if (!(axes.Length == 2 && axes.Select(a => a < 0 ? a + 4 : a).OrderBy(a => a).SequenceEqual(new long[] { 2, 3 })))
                    throw _graph.Fail($"{Describe(pool)} averages over axes [{string.Join(", ", axes)}]; expected the spatial axes [2, 3].");
                return;
        }
    }

    ClassifierNodes? ReadClassifier(string pooled)
    {
        string value = pooled;
        while (true)
        {
            var consumers = _graph.Consumers(value);
            if (consumers.Count == 0) return null;
            if (consumers.Count != 1)
                throw _graph.Fail($"the pooled features '{value}' feed {consumers.Count} nodes; expected at most one classifier.");
            var node = consumers[0];
            switch (node.OpType)
            {
                case "Flatten" or "Reshape" or "Squeeze":
                    value = node.Output[0];
                    continue;
                case "Gemm":
                    return new ClassifierNodes(node, null);
                case "MatMul":
                    var next = _graph.Consumers(node.Output[0]);
                    var bias = next.Count == 1 && next[0].OpType == "Add" ? next[0] : null;
                    return new ClassifierNodes(node, bias);
                default:
                    // Softmax or other post-processing without a linear layer: a features-only graph.
                    return null;
            }
        }
    }

    IReadOnlyList<IReadOnlyList<ResidualBlock>> SplitStages(List<ResidualBlock> blocks)
    {
        // Every stage after the first opens with a strided block, which needs a downsample shortcut; layer1 opens
        // with one only when its width differs from the stem's.
        var stages = new List<List<ResidualBlock>>();
        for (int i = 0; i < blocks.Count; i++)
        {
            if (i == 0 || blocks[i].Downsample is not null) stages.Add(new List<ResidualBlock>());
            stages[^1].Add(blocks[i]);
        }
        if (stages.Count != 4)
            throw _graph.Fail($"expected 4 stages (layer1..layer4) as timm's ResNet has; found {stages.Count} "
                + $"(blocks per stage: {string.Join(", ", stages.Select(s => s.Count))}).");
        return stages;
    }

    NodeProto Expect(NodeProto node, string opType, string role) =>
        node.OpType == opType ? node
            : throw _graph.Fail($"expected {role} ({opType}) but found {Describe(node)}; the graph is not {Expected}.");

    static SpatialSize? SpatialOf(ValueInfoProto input)
    {
        var dims = input.Type?.TensorType?.Shape?.Dim;
        if (dims is null || dims.Count != 4) return null;
        return dims[2].DimValue > 0 && dims[3].DimValue > 0 ? new SpatialSize(dims[2].DimValue, dims[3].DimValue) : null;
    }
}

using MLNet.WeightSelection.Checkpoints.Onnx;
using MLNet.WeightSelection.Models;
using Onnx;
using TorchSharp;
using static MLNet.WeightSelection.Checkpoints.Onnx.OnnxGraphIndex;

namespace MLNet.WeightSelection.Models.Onnx;

/// <summary>
/// What an ONNX preprocessing model does to raw pixels, summarized as an <see cref="InputConvention"/>.
/// </summary>
/// <param name="Convention">Channel order, scale, mean and std equivalent to the preprocessing.</param>
/// <param name="MaxMeanDeviation">
/// Largest distance between a subtracted per-pixel mean image and its per-channel mean (0 when the mean is already
/// per channel). The convention subtracts per-channel means, so this bounds how far it differs from the original.
/// </param>
/// <param name="Description">The operations found, in order, for reports.</param>
public sealed record OnnxPreprocessingInfo(InputConvention Convention, float MaxMeanDeviation, string Description);

/// <summary>
/// Reads preprocessing graphs such as ML.NET's <c>ResNetPreprocess.onnx</c> (Split the RGB planes, Concat them as
/// BGR, Sub a mean image) into an input convention. The graph's input is taken to be what ML.NET's ExtractPixels
/// produces by default: planar R, G, B values 0–255.
/// </summary>
public static class OnnxPreprocessing
{
    /// <summary>Reads the preprocessing model at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is not ONNX, or its graph does more than reorder channels and apply per-channel (or per-pixel mean)
    /// affine operations.
    /// </exception>
    public static OnnxPreprocessingInfo Read(string path)
    {
        var graph = new OnnxGraphIndex(OnnxModelFile.Load(path), path);
        if (graph.DataInputs.Count != 1 || graph.Model.Graph.Output.Count != 1)
            throw graph.Fail("expected a preprocessing graph with one image input and one output.");
        var input = graph.DataInputs[0];
        var dims = input.Type?.TensorType?.Shape?.Dim;
        int channels = dims is { Count: 4 } && dims[1].DimValue > 0 ? (int)dims[1].DimValue : 3;
        var nodes = graph.Model.Graph.Node.Where(n => n.OpType != "Constant").ToList();
        return Interpret(graph, input.Name, channels, nodes, graph.Model.Graph.Output[0].Name);
    }

    /// <summary>True for the operators a preprocessing chain may hold (channel reordering and per-channel affine steps).</summary>
    internal static bool IsPreprocessingOp(string opType) => opType is "Split" or "Concat" or "Gather" or "Sub" or "Add" or "Mul" or "Div" or "Identity";

    /// <summary>
    /// Interprets <paramref name="nodes"/> (in graph order) as a map from raw RGB planes at <paramref name="input"/> to
    /// the value <paramref name="output"/>, and summarizes it as a convention.
    /// </summary>
    internal static OnnxPreprocessingInfo Interpret(OnnxGraphIndex graph, string input, int channels, IReadOnlyList<NodeProto> nodes, string output)
    {
        var states = new Dictionary<string, Planes>(StringComparer.Ordinal) { [input] = Planes.Identity(channels) };
        var steps = new List<string>();
        float deviation = 0;
        foreach (var node in nodes)
        {
            switch (node.OpType)
            {
                case "Identity":
                    break; // State looks through Identity nodes
                case "Split":
                    Split(graph, states, node);
                    steps.Add("Split");
                    break;
                case "Concat":
                    if (Int(node, "axis", 0) is not (1 or -3))
                        throw graph.Fail($"{Describe(node)} concatenates along axis {Int(node, "axis", 0)}; expected the channel axis 1.");
                    states[node.Output[0]] = Planes.Concat(node.Input.Select((_, i) => State(graph, states, node, i)));
                    steps.Add($"Concat ({Letters(states[node.Output[0]])})");
                    break;
                case "Gather":
                    if (Int(node, "axis", 0) is not (1 or -3))
                        throw graph.Fail($"{Describe(node)} gathers along axis {Int(node, "axis", 0)}; expected the channel axis 1.");
                    var indices = OnnxTensors.ToLongs(graph.Constant(node.Input[1], node), graph.Origin, graph.ModelDirectory);
                    states[node.Output[0]] = State(graph, states, node, 0).Pick(indices, graph, node);
                    steps.Add($"Gather ({Letters(states[node.Output[0]])})");
                    break;
                case "Sub" or "Add" or "Mul" or "Div":
                    // Add and Mul commute: the image may be either operand; Sub and Div need it first.
                    int image = states.ContainsKey(graph.Source(node.Input[0])) ? 0 : node.OpType is "Add" or "Mul" ? 1 : 0;
                    var (perChannel, spread) = ChannelConstant(graph, node, node.Input[1 - image], channels);
                    deviation = Math.Max(deviation, node.OpType is "Sub" or "Add" ? spread : 0);
                    states[node.Output[0]] = State(graph, states, node, image).Apply(node.OpType, perChannel);
                    steps.Add($"{node.OpType} {node.Input[1 - image]} ({string.Join(", ", perChannel.Select(v => v.ToString("0.###")))}"
                        + (spread > 0 ? $"; per pixel, up to {spread:0.###} from the channel mean)" : ")"));
                    break;
                default:
                    throw graph.Fail($"{Describe(node)}: expected only channel reordering (Split, Concat, Gather) and per-channel Sub, Add, Mul, Div.");
            }
        }
        if (!states.TryGetValue(graph.Source(output), out var result) || result.Source.Length != 3)
            throw graph.Fail($"'{output}' is not a 3-channel image derived from input '{input}'.");
        return new OnnxPreprocessingInfo(result.ToConvention(graph), deviation, steps.Count > 0 ? string.Join(" → ", steps) : "none");
    }

    static string Letters(Planes planes) => string.Join(", ", planes.Source.Select(c => "RGB"[c % 3]));

    static Planes State(OnnxGraphIndex graph, Dictionary<string, Planes> states, NodeProto node, int input) =>
        states.TryGetValue(graph.Source(node.Input[input]), out var s) ? s
            : throw graph.Fail($"{Describe(node)} reads '{node.Input[input]}', which is not derived from the image input.");

    static void Split(OnnxGraphIndex graph, Dictionary<string, Planes> states, NodeProto node)
    {
        if (Int(node, "axis", 0) is not (1 or -3))
            throw graph.Fail($"{Describe(node)} splits along axis {Int(node, "axis", 0)}; expected the channel axis 1.");
        var source = State(graph, states, node, 0);
        long[] sizes = Ints(node, "split", Array.Empty<long>());
        if (sizes.Length == 0 && node.Input.Count > 1 && node.Input[1].Length > 0)
            sizes = OnnxTensors.ToLongs(graph.Constant(node.Input[1], node), graph.Origin, graph.ModelDirectory);
        if (sizes.Length == 0) sizes = Enumerable.Repeat((long)(source.Source.Length / node.Output.Count), node.Output.Count).ToArray();
        if (sizes.Sum() != source.Source.Length || sizes.Length != node.Output.Count)
            throw graph.Fail($"{Describe(node)} splits {source.Source.Length} channels into [{string.Join(", ", sizes)}].");
        int start = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            states[node.Output[i]] = source.Slice(start, (int)sizes[i]);
            start += (int)sizes[i];
        }
    }

    /// <summary>The constant second operand reduced to one value per channel, and how far it varies inside a channel.</summary>
    static (float[] PerChannel, float Spread) ChannelConstant(OnnxGraphIndex graph, NodeProto node, string operand, int channels)
    {
        var proto = graph.Constant(operand, node);
        using var scope = torch.NewDisposeScope();
        var k = OnnxTensors.ToFloatTensor(proto, graph.Origin, graph.ModelDirectory);
        // Channel axis is third from the end (…, C, H, W) for image-shaped constants; scalars broadcast.
        if (k.numel() == 1) return (Enumerable.Repeat(k.item<float>(), channels).ToArray(), 0f);
        if (k.dim() < 3 || k.shape[^3] != channels || (k.dim() == 4 && k.shape[0] != 1))
            throw graph.Fail($"{Describe(node)}: constant '{proto.Name}' has shape [{string.Join(", ", proto.Dims)}]; expected a scalar, [{channels}, 1, 1] or [1, {channels}, H, W].");
        var perPlane = k.reshape(channels, -1);
        var mean = perPlane.mean(new long[] { 1 });
        float spread = (perPlane - mean.unsqueeze(1)).abs().max().item<float>();
        if (node.OpType is "Mul" or "Div" && spread > 0)
            throw graph.Fail($"{Describe(node)}: constant '{proto.Name}' varies inside a channel; expected one scale per channel.");
        return (mean.data<float>().ToArray(), spread);
    }

    /// <summary>Each output plane as source channel × a + b.</summary>
    sealed record Planes(int[] Source, double[] A, double[] B)
    {
        public static Planes Identity(int channels) =>
            new(Enumerable.Range(0, channels).ToArray(), Enumerable.Repeat(1.0, channels).ToArray(), new double[channels]);

        public Planes Pick(long[] indices, OnnxGraphIndex graph, NodeProto node)
        {
            if (indices.Any(i => i < -Source.Length || i >= Source.Length))
                throw graph.Fail($"{Describe(node)} picks channels [{string.Join(", ", indices)}] of {Source.Length}.");
            var idx = indices.Select(i => (int)(i < 0 ? i + Source.Length : i)).ToArray();
            return new(idx.Select(i => Source[i]).ToArray(), idx.Select(i => A[i]).ToArray(), idx.Select(i => B[i]).ToArray());
        }

        public Planes Slice(int start, int count) => new(Source[start..(start + count)], A[start..(start + count)], B[start..(start + count)]);

        public static Planes Concat(IEnumerable<Planes> parts)
        {
            var list = parts.ToList();
            return new(list.SelectMany(p => p.Source).ToArray(), list.SelectMany(p => p.A).ToArray(), list.SelectMany(p => p.B).ToArray());
        }

        public Planes Apply(string op, float[] k)
        {
            if (k.Length != Source.Length) throw new InvalidDataException($"a per-channel constant of {k.Length} values meets {Source.Length} channels.");
            var a = (double[])A.Clone();
            var b = (double[])B.Clone();
            for (int c = 0; c < a.Length; c++)
            {
                switch (op)
                {
                    case "Sub": b[c] -= k[c]; break;
                    case "Add": b[c] += k[c]; break;
                    case "Mul": a[c] *= k[c]; b[c] *= k[c]; break;
                    case "Div": a[c] /= k[c]; b[c] /= k[c]; break;
                }
            }
            return new(Source, a, b);
        }

        public InputConvention ToConvention(OnnxGraphIndex graph)
        {
            var order = Source.SequenceEqual(new[] { 0, 1, 2 }) ? ChannelOrder.Rgb
                : Source.SequenceEqual(new[] { 2, 1, 0 }) ? ChannelOrder.Bgr
                : throw graph.Fail($"the output planes come from input channels [{string.Join(", ", Source)}]; expected RGB or BGR order.");
            // value = raw·a + b = (raw / Scale − Mean) / Std: one equation, two unknowns per channel. A factor common to
            // all channels becomes Scale (Std 1, as CNTK's 0–255 mean-subtracted input); per-channel factors become Std,
            // on 0–1 values (Scale 255, timm's form) when that gives stds of at most 1, else on raw values.
            if (A.All(a => Math.Abs(a - A[0]) <= 1e-6 * Math.Abs(A[0])))
                return new InputConvention(order, (float)(1 / A[0]), B.Select(b => (float)-b).ToArray(), Enumerable.Repeat(1f, A.Length).ToArray());
            double scale = A.All(a => 255 * a >= 1) ? 255 : 1;
            return new InputConvention(order, (float)scale,
                B.Select((b, c) => (float)(-b / (A[c] * scale))).ToArray(), A.Select(a => (float)(1 / (a * scale))).ToArray());
        }
    }
}

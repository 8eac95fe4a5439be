using Onnx;

namespace MLNet.WeightSelection.Checkpoints.Onnx;

/// <summary>
/// Lookup tables over one ONNX graph: which node produces and which nodes consume each value, and which values are
/// constants (initializers or Constant nodes). Identity and Dropout (inference no-ops) are seen through, so walkers
/// only meet the operators that carry meaning.
/// </summary>
internal sealed class OnnxGraphIndex
{
    static readonly HashSet<string> PassThrough = new(StringComparer.Ordinal) { "Identity", "Dropout" };

    readonly Dictionary<string, TensorProto> _constants = new(StringComparer.Ordinal);
    readonly Dictionary<string, NodeProto> _producers = new(StringComparer.Ordinal);
    readonly Dictionary<string, List<NodeProto>> _consumers = new(StringComparer.Ordinal);

    public OnnxGraphIndex(ModelProto model, string origin)
    {
        Model = model;
        Origin = origin;
        ModelDirectory = Path.GetDirectoryName(Path.GetFullPath(origin));
        foreach (var init in model.Graph.Initializer) _constants[init.Name] = init;
        foreach (var node in model.Graph.Node)
        {
            if (node.OpType == "Constant" && node.Output.Count == 1 && node.Attribute.FirstOrDefault(a => a.Name == "value") is { T: { } t })
                _constants[node.Output[0]] = t;
            foreach (var output in node.Output) _producers[output] = node;
            foreach (var input in node.Input)
            {
                if (input.Length == 0) continue;
                if (!_consumers.TryGetValue(input, out var list)) _consumers[input] = list = new List<NodeProto>();
                list.Add(node);
            }
        }
        DataInputs = model.Graph.Input.Where(i => !_constants.ContainsKey(i.Name)).ToList();
    }

    /// <summary>The model being indexed.</summary>
    public ModelProto Model { get; }

    /// <summary>The file the model came from, for messages.</summary>
    public string Origin { get; }

    /// <summary>Folder of the model file, for external tensor data.</summary>
    public string? ModelDirectory { get; }

    /// <summary>Graph inputs that are not initializers: the values a caller feeds.</summary>
    public IReadOnlyList<ValueInfoProto> DataInputs { get; }

    /// <summary>Opset version of the default ONNX domain.</summary>
    public long Opset => Model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(1).Max();

    /// <summary>True when <paramref name="value"/> is an initializer or the output of a Constant node.</summary>
    public bool IsConstant(string value) => _constants.ContainsKey(value);

    /// <summary>The constant behind <paramref name="value"/>.</summary>
    public TensorProto Constant(string value, NodeProto user) =>
        _constants.TryGetValue(value, out var t) ? t
            : throw Fail($"{Describe(user)} expects input '{value}' to be a constant (an initializer), but it is computed.");

    /// <summary>The operator nodes consuming <paramref name="value"/>, looking through Identity and Dropout nodes.</summary>
    public IReadOnlyList<NodeProto> Consumers(string value)
    {
        var result = new List<NodeProto>();
        if (!_consumers.TryGetValue(value, out var direct)) return result;
        foreach (var node in direct)
        {
            if (PassThrough.Contains(node.OpType) && node.Output.Count > 0) result.AddRange(Consumers(node.Output[0]));
            else result.Add(node);
        }
        return result;
    }

    /// <summary>The value <paramref name="value"/> copies, looking back through Identity and Dropout nodes.</summary>
    public string Source(string value)
    {
        while (_producers.TryGetValue(value, out var node) && PassThrough.Contains(node.OpType) && node.Input.Count > 0)
            value = node.Input[0];
        return value;
    }

    /// <summary>True when <paramref name="value"/> is a graph output (or passes to one through Identity nodes).</summary>
    public bool IsGraphOutput(string value) =>
        Model.Graph.Output.Any(o => o.Name == value)
        || (_consumers.TryGetValue(value, out var direct)
            && direct.Any(n => PassThrough.Contains(n.OpType) && n.Output.Count > 0 && IsGraphOutput(n.Output[0])));

    /// <summary>The only consumer of <paramref name="value"/>, or an exception naming what was expected.</summary>
    public NodeProto SingleConsumer(string value, string expected)
    {
        var consumers = Consumers(value);
        if (consumers.Count != 1)
            throw Fail($"value '{value}' feeds {consumers.Count} nodes ({string.Join(", ", consumers.Select(Describe))}); expected {expected}.");
        return consumers[0];
    }

    /// <summary>Integer-list attribute, or <paramref name="fallback"/> when absent.</summary>
    public static long[] Ints(NodeProto node, string name, long[] fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.Ints.ToArray() : fallback;

    /// <summary>Integer attribute, or <paramref name="fallback"/> when absent.</summary>
    public static long Int(NodeProto node, string name, long fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : fallback;

    /// <summary>Float attribute, or null when absent.</summary>
    public static float? Float(NodeProto node, string name) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.F : null;

    /// <summary>String attribute, or <paramref name="fallback"/> when absent.</summary>
    public static string String(NodeProto node, string name, string fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.S.ToStringUtf8() : fallback;

    /// <summary>"Conv 'name'" for messages.</summary>
    public static string Describe(NodeProto node) =>
        node.Name.Length > 0 ? $"{node.OpType} '{node.Name}'" : $"{node.OpType} (output '{node.Output.FirstOrDefault()}')";

    /// <summary>An <see cref="InvalidDataException"/> naming the file.</summary>
    public InvalidDataException Fail(string what) => new($"{Origin}: {what}");
}

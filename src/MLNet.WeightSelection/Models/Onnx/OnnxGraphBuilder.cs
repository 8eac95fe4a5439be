using Google.Protobuf;
using MLNet.WeightSelection.Checkpoints.Onnx;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.Onnx;

/// <summary>
/// Accumulates an ONNX graph: initializers, nodes with attributes, inputs and outputs, with unique value names.
/// Family exporters describe their forward pass through it; helpers cover the opset-dependent forms.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    readonly GraphProto _graph;
    readonly HashSet<string> _names = new(StringComparer.Ordinal);
    readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    readonly Dictionary<string, long> _domains = new(StringComparer.Ordinal);
    readonly HashSet<string> _nodeNames = new(StringComparer.Ordinal);

    public OnnxGraphBuilder(string name, int opset)
    {
        _graph = new GraphProto { Name = name };
        Opset = opset;
    }

    /// <summary>Opset version of the default domain the graph is written for.</summary>
    public int Opset { get; }

    /// <summary>Total bytes of initializer data so far (protobuf cannot hold a model over 2 GB).</summary>
    public long InitializerBytes { get; private set; }

    /// <summary>A name not used yet, based on <paramref name="name"/>.</summary>
    public string Unique(string name)
    {
        string candidate = name;
        for (int i = 1; !_names.Add(candidate); i++) candidate = $"{name}_{i}";
        return candidate;
    }

    /// <summary>Adds <paramref name="tensor"/> (float32 or int64) as an initializer; returns its name.</summary>
    public string Initializer(string name, Tensor tensor)
    {
        var proto = OnnxTensors.FromTensor(Unique(name), tensor);
        InitializerBytes += proto.RawData.Length;
        _graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>A float constant; identical constants are stored once.</summary>
    public string Floats(string name, float[] values, params long[] dims)
    {
        string key = $"f:{string.Join(",", dims)}:{string.Join(",", values.Select(v => BitConverter.SingleToInt32Bits(v)))}";
        if (_constants.TryGetValue(key, out var existing)) return existing;
        var proto = OnnxTensors.FromFloats(Unique(name), values, dims);
        _graph.Initializer.Add(proto);
        return _constants[key] = proto.Name;
    }

    /// <summary>An int64 constant (shapes, axes, indices); identical constants are stored once.</summary>
    public string Longs(string name, long[] values, params long[] dims)
    {
        string key = $"l:{string.Join(",", dims)}:{string.Join(",", values)}";
        if (_constants.TryGetValue(key, out var existing)) return existing;
        var proto = OnnxTensors.FromLongs(Unique(name), values, dims);
        _graph.Initializer.Add(proto);
        return _constants[key] = proto.Name;
    }

    /// <summary>A scalar float constant.</summary>
    public string Scalar(string name, float value) => Floats(name, new[] { value });

    /// <summary>Adds a node; returns the name of its (single) output, derived from <paramref name="name"/>.</summary>
    public string Node(string opType, string name, IEnumerable<string> inputs, params (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = Unique(name + "/" + opType) };
        node.Input.AddRange(inputs);
        string output = Unique(name + "/" + opType + "_out");
        node.Output.Add(output);
        foreach (var (attrName, value) in attributes) node.Attribute.Add(Attribute(attrName, value));
        _graph.Node.Add(node);
        return output;
    }

    /// <summary>
    /// Adds a node whose node and output names are given exactly (a consumer looks them up by name), optionally in
    /// another operator domain, which the model then imports at <paramref name="domainVersion"/>.
    /// </summary>
    public void NamedNode(string opType, string nodeName, IEnumerable<string> inputs, IEnumerable<string> outputs,
        string domain = "", long domainVersion = 0, params (string Name, object Value)[] attributes)
    {
        if (!_nodeNames.Add(nodeName)) throw new ArgumentException($"The ONNX node name '{nodeName}' is already used in the graph.");
        var node = new NodeProto { OpType = opType, Name = nodeName, Domain = domain };
        node.Input.AddRange(inputs);
        foreach (var output in outputs)
        {
            if (!_names.Add(output)) throw new ArgumentException($"The ONNX value name '{output}' is already used in the graph.");
            node.Output.Add(output);
        }
        foreach (var (attrName, value) in attributes) node.Attribute.Add(Attribute(attrName, value));
        if (domain.Length > 0) _domains[domain] = Math.Max(domainVersion, _domains.GetValueOrDefault(domain));
        _graph.Node.Add(node);
    }

    /// <summary>A string tensor constant of shape [values.Count].</summary>
    public string Strings(string name, IReadOnlyList<string> values)
    {
        var proto = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.String };
        proto.Dims.Add(values.Count);
        proto.StringData.AddRange(values.Select(ByteString.CopyFromUtf8));
        _graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>Renames the value <paramref name="value"/> to <paramref name="name"/> with an Identity node (for graph outputs).</summary>
    public string Rename(string value, string name)
    {
        if (!_names.Add(name)) throw new ArgumentException($"The ONNX value name '{name}' is already used in the graph.");
        var node = new NodeProto { OpType = "Identity", Name = Unique(name + "/Identity") };
        node.Input.Add(value);
        node.Output.Add(name);
        _graph.Node.Add(node);
        return name;
    }

    /// <summary>Declares a float graph input; a dimension is a fixed size (long) or a symbolic name (string).</summary>
    public string Input(string name, params object[] dims)
    {
        if (!_names.Add(name)) throw new ArgumentException($"The ONNX value name '{name}' is already used in the graph.");
        _graph.Input.Add(ValueInfo(name, dims));
        return name;
    }

    /// <summary>Declares <paramref name="name"/> (an existing value) a float graph output.</summary>
    public void Output(string name, params object[] dims) => _graph.Output.Add(ValueInfo(name, dims));

    /// <summary>Declares <paramref name="name"/> (an existing value) a graph output of another element type.</summary>
    public void Output(string name, TensorProto.Types.DataType elementType, params object[] dims) => _graph.Output.Add(ValueInfo(name, dims, elementType));

    // Opset-dependent and composite operators.

    /// <summary>y = x·Wᵀ + b for a PyTorch Linear weight [out, in] over the last axis of any-rank x.</summary>
    public string Linear(string name, string x, Tensor weight, Tensor? bias)
    {
        using var transposed = weight.t().contiguous();
        var y = Node("MatMul", name, new[] { x, Initializer(name + ".weight_t", transposed) });
        return bias is null ? y : Node("Add", name, new[] { y, Initializer(name + ".bias", bias) });
    }

    /// <summary>Gemm for a 2-D [N, in] input: x·Wᵀ + b with the PyTorch weight stored as it is.</summary>
    public string Gemm(string name, string x, Tensor weight, Tensor? bias)
    {
        var inputs = new List<string> { x, Initializer(name + ".weight", weight) };
        if (bias is not null) inputs.Add(Initializer(name + ".bias", bias));
        return Node("Gemm", name, inputs, ("transB", 1L));
    }

    /// <summary>LayerNormalization over the last axis (opset 17).</summary>
    public string LayerNorm(string name, string x, Tensor weight, Tensor bias, float epsilon) =>
        Node("LayerNormalization", name, new[] { x, Initializer(name + ".weight", weight), Initializer(name + ".bias", bias) },
            ("axis", -1L), ("epsilon", epsilon));

    /// <summary>Exact (erf) GELU: the Gelu operator from opset 20, else x·½·(1 + erf(x/√2)).</summary>
    public string Gelu(string name, string x)
    {
        if (Opset >= 20) return Node("Gelu", name, new[] { x });
        var erf = Node("Erf", name, new[] { Node("Div", name, new[] { x, Scalar("sqrt2", MathF.Sqrt(2f)) }) });
        var onePlus = Node("Add", name, new[] { erf, Scalar("one", 1f) });
        return Node("Mul", name, new[] { Node("Mul", name, new[] { x, onePlus }), Scalar("half", 0.5f) });
    }

    /// <summary>ReduceMean/ReduceMax over <paramref name="axes"/> (axes are an attribute before opset 18, an input from 18).</summary>
    public string Reduce(string op, string name, string x, long[] axes, bool keepDims)
    {
        var keep = ("keepdims", keepDims ? 1L : 0L);
        return Opset >= 18
            ? Node(op, name, new[] { x, Longs("axes", axes, axes.Length) }, keep)
            : Node(op, name, new[] { x }, ("axes", axes), keep);
    }

    /// <summary>Transposes <paramref name="x"/>.</summary>
    public string Transpose(string name, string x, params long[] perm) => Node("Transpose", name, new[] { x }, ("perm", perm));

    /// <summary>Reshapes <paramref name="x"/>; 0 copies the input's dimension, −1 is inferred.</summary>
    public string Reshape(string name, string x, params long[] shape) =>
        Node("Reshape", name, new[] { x, Longs("shape", shape, shape.Length) });

    /// <summary>The complete model.</summary>
    public ModelProto ToModel(string producer, string docString, IReadOnlyDictionary<string, string> metadata)
    {
        var model = new ModelProto
        {
            IrVersion = IrVersionFor(Opset),
            ProducerName = producer,
            ProducerVersion = typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString() ?? "",
            DocString = docString,
            Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (domain, version) in _domains) model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        foreach (var (key, value) in metadata) model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model;
    }

    /// <summary>The IR version of the ONNX release that introduced <paramref name="opset"/> (1.12–1.13: 8, 1.14–1.15: 9, 1.16+: 10).</summary>
    static long IrVersionFor(int opset) => opset <= 18 ? 8 : opset <= 20 ? 9 : 10;

    static ValueInfoProto ValueInfo(string name, object[] dims, TensorProto.Types.DataType elementType = TensorProto.Types.DataType.Float)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d switch
            {
                string param => new TensorShapeProto.Types.Dimension { DimParam = param },
                long value => new TensorShapeProto.Types.Dimension { DimValue = value },
                int value => new TensorShapeProto.Types.Dimension { DimValue = value },
                _ => throw new ArgumentException($"A dimension is a size or a name; got {d}."),
            });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)elementType, Shape = shape } },
        };
    }

    static AttributeProto Attribute(string name, object value) => value switch
    {
        long i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
        int i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
        float f => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = f },
        string s => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(s) },
        long[] ints => Ints(name, ints),
        string[] strings => Strings(name, strings),
        _ => throw new ArgumentException($"Unsupported ONNX attribute value for '{name}': {value.GetType().Name}."),
    };

    static AttributeProto Strings(string name, string[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Strings };
        a.Strings.AddRange(values.Select(ByteString.CopyFromUtf8));
        return a;
    }

    static AttributeProto Ints(string name, long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }
}

using System.Runtime.InteropServices;

namespace MLNet.WeightSelection.MLNet.Onnx;

/// <summary>
/// The small ONNX graph that follows the student in the scoring pipeline. From the student's probabilities
/// <c>[1, K]</c> (ML.NET feeds one row at a time) it gives:
/// <list type="bullet">
/// <item>the probabilities as <c>[K]</c>, so ML.NET types them <c>Vector&lt;Single, K&gt;</c> as a trainer's Score;</item>
/// <item>the one-hot of their arg-max, which a count model turns into a key-typed PredictedLabel (see <see cref="ArgMaxKeyHead"/>);</item>
/// <item>when the classes have names, a <c>mlnet.&lt;column&gt;.SlotNames</c> node. ML.NET's OnnxTransformer reads
/// that node's <c>keys_strings</c> as the column's SlotNames, so the class names survive <c>Model.Save/Load</c>.</item>
/// </list>
/// </summary>
internal static class ScoreHeadGraph
{
    // onnx.proto field numbers and enum values used below.
    const int FloatType = 1, Int64Type = 7, StringType = 8;
    const int AttrInt = 2, AttrInts = 7, AttrStrings = 8;

    /// <summary>Serializes the head graph as an ONNX model.</summary>
    /// <param name="inputName">Name of the graph input: the student's output column.</param>
    /// <param name="classCount">K, the number of classes.</param>
    /// <param name="probabilitiesName">Output holding the probabilities <c>[K]</c>.</param>
    /// <param name="oneHotName">Output holding the one-hot arg-max <c>[K]</c>.</param>
    /// <param name="slotNames">Class names for the probabilities' SlotNames, or null for none.</param>
    public static byte[] Build(string inputName, int classCount, string probabilitiesName, string oneHotName, IReadOnlyList<string>? slotNames)
    {
        if (slotNames is not null && slotNames.Count != classCount)
            throw new ArgumentException($"{slotNames.Count} slot names were given for {classCount} classes.", nameof(slotNames));

        var graph = new ProtoWriter();
        graph.Message(1, Node("Squeeze", new[] { inputName, "ws_axis0" }, new[] { probabilitiesName }, "ws_squeeze"));
        graph.Message(1, Node("ArgMax", new[] { probabilitiesName }, new[] { "ws_argmax" }, "ws_argmax",
            attributes: new[] { IntAttribute("axis", 0), IntAttribute("keepdims", 1) }));
        graph.Message(1, Node("OneHot", new[] { "ws_argmax", "ws_depth", "ws_onoff" }, new[] { "ws_onehot_row" }, "ws_onehot"));
        graph.Message(1, Node("Squeeze", new[] { "ws_onehot_row", "ws_axis0" }, new[] { oneHotName }, "ws_squeeze_onehot"));
        graph.String(2, "weight_selection_score_head");
        graph.Message(5, Int64Tensor("ws_axis0", new long[] { 1 }, new long[] { 0 }));
        graph.Message(5, Int64Tensor("ws_depth", Array.Empty<long>(), new long[] { classCount }));
        graph.Message(5, FloatTensor("ws_onoff", new long[] { 2 }, new[] { 0f, 1f }));
        graph.Message(11, ValueInfo(inputName, FloatType, new long?[] { null, classCount }));
        graph.Message(12, ValueInfo(probabilitiesName, FloatType, new long?[] { classCount }));
        graph.Message(12, ValueInfo(oneHotName, FloatType, new long?[] { classCount }));

        if (slotNames is not null)
        {
            // ML.NET looks the node up by name and reads only its keys_strings; ONNX Runtime needs a valid node, so it
            // maps the names to their indices, and its output is named so that ML.NET does not list it as a column.
            string unused = $"mlnet.{probabilitiesName}.unusedOutput";
            graph.Message(5, StringTensor("ws_class_names", slotNames));
            graph.Message(1, Node("LabelEncoder", new[] { "ws_class_names" }, new[] { unused }, $"mlnet.{probabilitiesName}.SlotNames",
                domain: "ai.onnx.ml",
                attributes: new[]
                {
                    StringsAttribute("keys_strings", slotNames),
                    IntsAttribute("values_int64s", Enumerable.Range(0, classCount).Select(i => (long)i).ToArray()),
                }));
            graph.Message(12, ValueInfo(unused, Int64Type, new long?[] { classCount }));
        }

        var model = new ProtoWriter()
            .Int(1, 8) // ir_version
            .String(2, "MLNet.WeightSelection")
            .Message(7, graph)
            .Message(8, new ProtoWriter().String(1, "").Int(2, 17))
            .Message(8, new ProtoWriter().String(1, "ai.onnx.ml").Int(2, 2));
        return model.ToArray();
    }

    static ProtoWriter Node(string op, string[] inputs, string[] outputs, string name, string domain = "", ProtoWriter[]? attributes = null)
    {
        var node = new ProtoWriter();
        foreach (var i in inputs) node.String(1, i);
        foreach (var o in outputs) node.String(2, o);
        node.String(3, name).String(4, op);
        foreach (var a in attributes ?? Array.Empty<ProtoWriter>()) node.Message(5, a);
        if (domain.Length > 0) node.String(7, domain);
        return node;
    }

    static ProtoWriter IntAttribute(string name, long value) => new ProtoWriter().String(1, name).Int(3, value).Int(20, AttrInt);

    static ProtoWriter IntsAttribute(string name, long[] values)
    {
        var a = new ProtoWriter().String(1, name);
        foreach (var v in values) a.Int(8, v);
        return a.Int(20, AttrInts);
    }

    static ProtoWriter StringsAttribute(string name, IEnumerable<string> values)
    {
        var a = new ProtoWriter().String(1, name);
        foreach (var v in values) a.String(9, v);
        return a.Int(20, AttrStrings);
    }

    static ProtoWriter Int64Tensor(string name, long[] dims, long[] values)
    {
        var t = new ProtoWriter();
        foreach (var d in dims) t.Int(1, d);
        t.Int(2, Int64Type).String(8, name);
        return t.Bytes(9, MemoryMarshal.AsBytes(values.AsSpan()));
    }

    static ProtoWriter FloatTensor(string name, long[] dims, float[] values)
    {
        var t = new ProtoWriter();
        foreach (var d in dims) t.Int(1, d);
        t.Int(2, FloatType).String(8, name);
        return t.Bytes(9, MemoryMarshal.AsBytes(values.AsSpan()));
    }

    static ProtoWriter StringTensor(string name, IReadOnlyList<string> values)
    {
        var t = new ProtoWriter().Int(1, values.Count).Int(2, StringType);
        foreach (var v in values) t.String(6, v);
        return t.String(8, name);
    }

    /// <summary>A tensor value info; a null dimension is the symbolic batch size.</summary>
    static ProtoWriter ValueInfo(string name, int elementType, long?[] dims)
    {
        var shape = new ProtoWriter();
        foreach (var d in dims)
            shape.Message(1, d is { } v ? new ProtoWriter().Int(1, v) : new ProtoWriter().String(2, "N"));
        var tensorType = new ProtoWriter().Int(1, elementType).Message(2, shape);
        return new ProtoWriter().String(1, name).Message(2, new ProtoWriter().Message(1, tensorType));
    }
}

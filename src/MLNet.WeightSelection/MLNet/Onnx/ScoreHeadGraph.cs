using Google.Protobuf;
using MLNet.WeightSelection.Models.Onnx;
using Onnx;

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
    const int Opset = 17;

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

        var graph = new OnnxGraphBuilder("weight_selection_score_head", Opset);
        graph.Input(inputName, "N", (long)classCount);
        string axis0 = graph.Longs("ws_axis0", new long[] { 0 }, 1);
        graph.NamedNode("Squeeze", "ws_squeeze", new[] { inputName, axis0 }, new[] { probabilitiesName });
        graph.NamedNode("ArgMax", "ws_argmax", new[] { probabilitiesName }, new[] { "ws_argmax" }, attributes: new (string, object)[] { ("axis", 0L), ("keepdims", 1L) });
        string depth = graph.Longs("ws_depth", new long[] { classCount });
        string onOff = graph.Floats("ws_onoff", new[] { 0f, 1f }, 2);
        graph.NamedNode("OneHot", "ws_onehot", new[] { "ws_argmax", depth, onOff }, new[] { "ws_onehot_row" });
        graph.NamedNode("Squeeze", "ws_squeeze_onehot", new[] { "ws_onehot_row", axis0 }, new[] { oneHotName });
        graph.Output(probabilitiesName, (long)classCount);
        graph.Output(oneHotName, (long)classCount);

        if (slotNames is not null)
        {
            // ML.NET looks the node up by name and reads only its keys_strings; ONNX Runtime needs a valid node, so it
            // maps the names to their indices, and its output is named so that ML.NET does not list it as a column.
            string unused = $"mlnet.{probabilitiesName}.unusedOutput";
            string names = graph.Strings("ws_class_names", slotNames);
            graph.NamedNode("LabelEncoder", $"mlnet.{probabilitiesName}.SlotNames", new[] { names }, new[] { unused }, domain: "ai.onnx.ml", domainVersion: 2,
                attributes: new (string, object)[]
                {
                    ("keys_strings", slotNames.ToArray()),
                    ("values_int64s", Enumerable.Range(0, classCount).Select(i => (long)i).ToArray()),
                });
            graph.Output(unused, TensorProto.Types.DataType.Int64, (long)classCount);
        }
        return graph.ToModel("MLNet.WeightSelection", "", new Dictionary<string, string>()).ToByteArray();
    }
}

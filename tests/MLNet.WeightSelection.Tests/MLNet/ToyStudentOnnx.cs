using System.Runtime.InteropServices;
using MLNet.WeightSelection.MLNet;
using MLNet.WeightSelection.MLNet.Onnx;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>
/// A hand-written ONNX "student" for scoring tests that need no TorchSharp: float [N, 3, S, S] pixels → mean per
/// channel → ÷ 255 → MatMul by a 3×K matrix → Softmax → [N, K] probabilities.
/// </summary>
public static class ToyStudentOnnx
{
    const string Input = ScoringChain.StudentInput;
    const string Output = ScoringChain.StudentOutput;

    /// <summary>The model bytes, with the tensor names the scoring chain expects.</summary>
    internal static byte[] Build(int imageSize, float[,] weights)
    {
        int k = weights.GetLength(1);
        var flat = new float[3 * k];
        for (int i = 0; i < 3; i++) for (int j = 0; j < k; j++) flat[i * k + j] = weights[i, j] / 255f;

        var graph = new ProtoWriter();
        graph.Message(1, Node("ReduceMean", new[] { Input }, new[] { "mean" }, new ProtoWriter().String(1, "axes").Int(8, 2).Int(8, 3).Int(20, 7), new ProtoWriter().String(1, "keepdims").Int(3, 0).Int(20, 2)));
        graph.Message(1, Node("MatMul", new[] { "mean", "w" }, new[] { "logits" }));
        graph.Message(1, Node("Softmax", new[] { "logits" }, new[] { Output }, new ProtoWriter().String(1, "axis").Int(3, 1).Int(20, 2)));
        graph.String(2, "toy_student");
        graph.Message(5, new ProtoWriter().Int(1, 3).Int(1, k).Int(2, 1).String(8, "w").Bytes(9, MemoryMarshal.AsBytes(flat.AsSpan())));
        graph.Message(11, ValueInfo(Input, new long?[] { null, 3, imageSize, imageSize }));
        graph.Message(12, ValueInfo(Output, new long?[] { null, k }));
        return new ProtoWriter().Int(1, 8).Message(7, graph).Message(8, new ProtoWriter().String(1, "").Int(2, 17)).ToArray();
    }

    static ProtoWriter Node(string op, string[] inputs, string[] outputs, params ProtoWriter[] attributes)
    {
        var node = new ProtoWriter();
        foreach (var i in inputs) node.String(1, i);
        foreach (var o in outputs) node.String(2, o);
        node.String(3, op.ToLowerInvariant()).String(4, op);
        foreach (var a in attributes) node.Message(5, a);
        return node;
    }

    static ProtoWriter ValueInfo(string name, long?[] dims)
    {
        var shape = new ProtoWriter();
        foreach (var d in dims) shape.Message(1, d is { } v ? new ProtoWriter().Int(1, v) : new ProtoWriter().String(2, "N"));
        return new ProtoWriter().String(1, name).Message(2, new ProtoWriter().Message(1, new ProtoWriter().Int(1, 1).Message(2, shape)));
    }
}

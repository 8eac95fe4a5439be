using Google.Protobuf;
using MLNet.WeightSelection.MLNet;
using MLNet.WeightSelection.Models.Onnx;

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

        var graph = new OnnxGraphBuilder("toy_student", 17);
        graph.Input(Input, "N", 3L, (long)imageSize, (long)imageSize);
        graph.NamedNode("ReduceMean", "reducemean", new[] { Input }, new[] { "mean" }, attributes: new (string, object)[] { ("axes", new long[] { 2, 3 }), ("keepdims", 0L) });
        string w = graph.Floats("w", flat, 3, k);
        graph.NamedNode("MatMul", "matmul", new[] { "mean", w }, new[] { "logits" });
        graph.NamedNode("Softmax", "softmax", new[] { "logits" }, new[] { Output }, attributes: new (string, object)[] { ("axis", 1L) });
        graph.Output(Output, "N", (long)k);
        return graph.ToModel("toy student", "", new Dictionary<string, string>()).ToByteArray();
    }
}

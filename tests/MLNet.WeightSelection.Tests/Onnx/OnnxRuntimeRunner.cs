using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MLNet.WeightSelection.Tests.Onnx;

/// <summary>Runs an ONNX model with ONNX Runtime on one float input and returns every output.</summary>
internal static class OnnxRuntimeRunner
{
    public static Dictionary<string, (float[] Data, int[] Shape)> Run(byte[] model, string input, float[] data, params int[] shape)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 2, InterOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        return Run(session, input, data, shape);
    }

    public static Dictionary<string, (float[] Data, int[] Shape)> Run(string path, string input, float[] data, params int[] shape)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 2, InterOpNumThreads = 1 };
        using var session = new InferenceSession(path, options);
        return Run(session, input, data, shape);
    }

    static Dictionary<string, (float[] Data, int[] Shape)> Run(InferenceSession session, string input, float[] data, int[] shape)
    {
        var tensor = new DenseTensor<float>(data, shape);
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(input, tensor) });
        return results.ToDictionary(r => r.Name, r =>
        {
            var t = r.AsTensor<float>();
            return (t.ToArray(), t.Dimensions.ToArray());
        });
    }
}

using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.WeightSelection.Models.Onnx;
using Onnx;
using Xunit;

namespace MLNet.WeightSelection.Tests.Onnx;

/// <summary>ONNX Runtime on the exported graph equals TorchSharp's eval forward pass, for every family, at batch 1 and 3.</summary>
public sealed class OnnxExportParityTests
{
    [Theory]
    [MemberData(nameof(ExportCases.Names), MemberType = typeof(ExportCases))]
    public void ProbabilitiesAndFeaturesEqualTorchSharp(string name)
    {
        using var model = ExportCases.Model(name);
        // One case per family runs at opset 20, where GELU is the Gelu operator rather than the erf formula.
        int opset = name is "vit_avg_no_class_token" or "convnext_conv_mlp" or "swin_window_clamped" ? 20 : 17;
        var bytes = OnnxExporter.ExportToBytes(model, new OnnxExportOptions { Opset = opset });

        var proto = ModelProto.Parser.ParseFrom(bytes);
        Assert.Equal(opset, proto.OpsetImport.Single(o => o.Domain == "").Version);
        var input = Assert.Single(proto.Graph.Input);
        Assert.Equal("input", input.Name);
        Assert.Equal("batch", input.Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal(new long[] { 3, 32, 32 }, input.Type.TensorType.Shape.Dim.Skip(1).Select(d => d.DimValue));
        Assert.Equal(new[] { "probabilities", "features" }, proto.Graph.Output.Select(o => o.Name));
        Assert.Contains(proto.Graph.Node, n => n.OpType == "Softmax" && n.Name.StartsWith("softmax"));
        Assert.Equal(opset >= 20, proto.Graph.Node.Any(n => n.OpType == "Gelu"));
        Assert.Equal(opset >= 20 ? 9 : 8, proto.IrVersion);

        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(bytes, options);
        foreach (int n in new[] { 1, 3 })
        {
            var pixels = ExportCases.Pixels(n, 32, seed: n);
            var (probabilities, features) = ExportCases.Reference(model, pixels, n, 32);
            using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(pixels, new[] { n, 3, 32, 32 })) });
            var onnxProbabilities = results.Single(r => r.Name == "probabilities").AsTensor<float>();
            var onnxFeatures = results.Single(r => r.Name == "features").AsTensor<float>();
            Assert.Equal(new[] { n, model.NumClasses }, onnxProbabilities.Dimensions.ToArray());
            Assert.Equal(new[] { n, model.NumFeatures }, onnxFeatures.Dimensions.ToArray());

            double worst = probabilities.Zip(onnxProbabilities.ToArray(), (a, b) => Math.Abs(a - b)).Max();
            Assert.True(worst <= 1e-4, $"{name}, batch {n}: probabilities differ by {worst:g3}");
            // The check means something only if the classes are told apart (weights and pixels are seeded).
            if (n == 3) Assert.True(probabilities.Max() - probabilities.Min() > 0.05, $"{name}: near-uniform probabilities make a weak test");
            CntkResNet18ImportTests.AssertClose(features, onnxFeatures.ToArray(), 1e-4);
        }
    }
}

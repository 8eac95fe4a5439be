using Google.Protobuf;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models.ResNet;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Onnx;

/// <summary>
/// Writes small ResNets as ONNX graphs the way torch.onnx exports torchvision models, written by hand with the ONNX
/// protobuf types (independent of the library's exporter): readable initializer names with BatchNormalization nodes,
/// or BatchNorm folded into conv biases under <c>onnx::Conv_N</c> names, then Flatten and Gemm.
/// </summary>
internal sealed class HandBuiltResNetOnnx
{
    readonly GraphProto _graph = new() { Name = "torch_jit" };
    readonly StateDict _sd;
    readonly bool _fold;
    int _counter;

    HandBuiltResNetOnnx(StateDict sd, bool fold) { _sd = sd; _fold = fold; }

    /// <summary>A model of <paramref name="spec"/> with randomized weights, and its state dict (timm names).</summary>
    public static (ResNet Model, StateDict Weights) RandomModel(ResNetSpec spec, int seed)
    {
        var model = RandomizedModels.Perturb((ResNet)spec.CreateModel(), seed);
        return (model, StateDict.FromModule(model));
    }

    /// <summary>The ONNX bytes of <paramref name="sd"/>'s ResNet; input "input" [batch, 3, size, size], output "logits".</summary>
    public static byte[] Build(StateDict sd, ResNetSpec spec, int size, bool foldBatchNorm, float epsilon = 1e-5f)
    {
        var b = new HandBuiltResNetOnnx(sd, foldBatchNorm);
        b.Declare(b._graph.Input, "input", "batch", 3, size, size);
        var x = b.ConvBn("input", "conv1", "bn1", 2, 3, epsilon);
        x = b.Op("Relu", x);
        x = b.Op("MaxPool", new[] { x }, Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1));
        for (int s = 0; s < 4; s++)
            for (int i = 0; i < spec.Layers[s]; i++)
            {
                string p = $"layer{s + 1}.{i}.";
                long stride = s > 0 && i == 0 ? 2 : 1;
                string y;
                if (spec.Block == ResNetBlock.Basic)
                {
                    y = b.Op("Relu", b.ConvBn(x, p + "conv1", p + "bn1", stride, 1, epsilon));
                    y = b.ConvBn(y, p + "conv2", p + "bn2", 1, 1, epsilon);
                }
                else
                {
                    y = b.Op("Relu", b.ConvBn(x, p + "conv1", p + "bn1", 1, 0, epsilon));
                    y = b.Op("Relu", b.ConvBn(y, p + "conv2", p + "bn2", stride, 1, epsilon));
                    y = b.ConvBn(y, p + "conv3", p + "bn3", 1, 0, epsilon);
                }
                var shortcut = sd.Contains(p + "downsample.0.weight") ? b.ConvBn(x, p + "downsample.0", p + "downsample.1", stride, 0, epsilon) : x;
                x = b.Op("Relu", b.Op("Add", new[] { y, shortcut }));
            }
        x = b.Op("GlobalAveragePool", new[] { x });
        x = b.Op("Flatten", new[] { x }, Int("axis", 1));
        x = b.Op("Identity", new[] { x }); // torch.onnx leaves such no-ops; the importer must see through them
        var logits = b.Op("Gemm", new[] { x, b.Init("fc.weight", sd["fc.weight"]), b.Init("fc.bias", sd["fc.bias"]) },
            Float("alpha", 1f), Float("beta", 1f), Int("transB", 1));
        b._graph.Node.Add(new NodeProto { OpType = "Identity", Input = { logits }, Output = { "logits" } });
        b.Declare(b._graph.Output, "logits", "batch", (int)sd["fc.weight"].shape[0]);

        var model = new ModelProto { IrVersion = 7, ProducerName = "pytorch", ProducerVersion = "1.13.0", Graph = b._graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Version = 13 });
        return model.ToByteArray();
    }

    string ConvBn(string x, string conv, string bn, long stride, long pad, float epsilon)
    {
        var w = _sd[conv + ".weight"];
        var convAttrs = new[] { Ints("kernel_shape", w.shape[2], w.shape[3]), Ints("strides", stride, stride), Ints("pads", pad, pad, pad, pad), Ints("dilations", 1, 1), Int("group", 1) };
        if (!_fold)
        {
            var y = Op("Conv", new[] { x, Init(conv + ".weight", w) }, convAttrs);
            return Op("BatchNormalization", new[]
            {
                y, Init(bn + ".weight", _sd[bn + ".weight"]), Init(bn + ".bias", _sd[bn + ".bias"]),
                Init(bn + ".running_mean", _sd[bn + ".running_mean"]), Init(bn + ".running_var", _sd[bn + ".running_var"]),
            }, Float("epsilon", epsilon), Float("momentum", 0.9f));
        }
        using var scope = NewDisposeScope();
        var factor = _sd[bn + ".weight"] / (_sd[bn + ".running_var"] + epsilon).sqrt();
        var folded = w * factor.reshape(-1, 1, 1, 1);
        var bias = _sd[bn + ".bias"] - _sd[bn + ".running_mean"] * factor;
        return Op("Conv", new[] { x, Init($"onnx::Conv_{1000 + _counter}", folded), Init($"onnx::Conv_{1001 + _counter}", bias) }, convAttrs);
    }

    string Op(string op, string x) => Op(op, new[] { x });

    string Op(string op, string[] inputs, params AttributeProto[] attrs)
    {
        string output = $"/{op}_{_counter++}_output_0";
        var node = new NodeProto { OpType = op, Name = $"/{op}_{_counter}" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attrs);
        _graph.Node.Add(node);
        return output;
    }

    string Init(string name, Tensor t)
    {
        using var c = t.contiguous();
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(c.shape);
        proto.FloatData.AddRange(c.data<float>().ToArray());
        _graph.Initializer.Add(proto);
        _counter += 2;
        return name;
    }

    void Declare(Google.Protobuf.Collections.RepeatedField<ValueInfoProto> list, string name, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is string p ? new TensorShapeProto.Types.Dimension { DimParam = p } : new TensorShapeProto.Types.Dimension { DimValue = (int)d });
        list.Add(new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } });
    }

    static AttributeProto Ints(string name, params long[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(v);
        return a;
    }

    static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };

    static AttributeProto Float(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };
}

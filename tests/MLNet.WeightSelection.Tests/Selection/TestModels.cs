using System.Text.RegularExpressions;
using MLNet.WeightSelection.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Selection;

/// <summary>Fills a tensor for a key and shape.</summary>
public delegate Tensor Fill(string key, long[] shape);

/// <summary>ViT sizes for synthetic state dicts with timm's names.</summary>
public sealed record VitSize(int Embed, int Depth, int Inner, int Hidden, int Tokens = 17, int Classes = 5, int Patch = 2, bool ClassToken = true);

/// <summary>Synthetic state dicts with timm's parameter names (tiny sizes, any fill).</summary>
public static class TestModels
{
    public static StateDict Vit(VitSize v, Fill fill, string origin = "vit")
    {
        var d = new StateDict(origin);
        void Add(string key, params long[] shape) => d.Add(key, fill(key, shape));
        if (v.ClassToken) Add("cls_token", 1, 1, v.Embed);
        Add("pos_embed", 1, v.Tokens, v.Embed);
        Add("patch_embed.proj.weight", v.Embed, 3, v.Patch, v.Patch);
        Add("patch_embed.proj.bias", v.Embed);
        for (int i = 0; i < v.Depth; i++)
        {
            string b = $"blocks.{i}.";
            Add(b + "norm1.weight", v.Embed); Add(b + "norm1.bias", v.Embed);
            Add(b + "attn.qkv.weight", 3 * v.Inner, v.Embed); Add(b + "attn.qkv.bias", 3 * v.Inner);
            Add(b + "attn.proj.weight", v.Embed, v.Inner); Add(b + "attn.proj.bias", v.Embed);
            Add(b + "norm2.weight", v.Embed); Add(b + "norm2.bias", v.Embed);
            Add(b + "mlp.fc1.weight", v.Hidden, v.Embed); Add(b + "mlp.fc1.bias", v.Hidden);
            Add(b + "mlp.fc2.weight", v.Embed, v.Hidden); Add(b + "mlp.fc2.bias", v.Embed);
        }
        Add("norm.weight", v.Embed); Add("norm.bias", v.Embed);
        Add("head.weight", v.Classes, v.Embed); Add("head.bias", v.Classes);
        return d;
    }

    public static StateDict ConvNeXt(int[] dims, int[] depths, bool convMlp, Fill fill, int classes = 5, string origin = "convnext")
    {
        var d = new StateDict(origin);
        void Add(string key, params long[] shape) => d.Add(key, fill(key, shape));
        Add("stem.0.weight", dims[0], 3, 4, 4); Add("stem.0.bias", dims[0]);
        Add("stem.1.weight", dims[0]); Add("stem.1.bias", dims[0]);
        for (int s = 0; s < dims.Length; s++)
        {
            if (s > 0)
            {
                Add($"stages.{s}.downsample.0.weight", dims[s - 1]); Add($"stages.{s}.downsample.0.bias", dims[s - 1]);
                Add($"stages.{s}.downsample.1.weight", dims[s], dims[s - 1], 2, 2); Add($"stages.{s}.downsample.1.bias", dims[s]);
            }
            for (int i = 0; i < depths[s]; i++)
            {
                string b = $"stages.{s}.blocks.{i}.";
                int h = 4 * dims[s];
                Add(b + "conv_dw.weight", dims[s], 1, 7, 7); Add(b + "conv_dw.bias", dims[s]);
                Add(b + "norm.weight", dims[s]); Add(b + "norm.bias", dims[s]);
                if (convMlp) Add(b + "mlp.fc1.weight", h, dims[s], 1, 1); else Add(b + "mlp.fc1.weight", h, dims[s]);
                Add(b + "mlp.fc1.bias", h);
                if (convMlp) Add(b + "mlp.fc2.weight", dims[s], h, 1, 1); else Add(b + "mlp.fc2.weight", dims[s], h);
                Add(b + "mlp.fc2.bias", dims[s]);
                Add(b + "gamma", dims[s]);
            }
        }
        Add("head.norm.weight", dims[^1]); Add("head.norm.bias", dims[^1]);
        Add("head.fc.weight", classes, dims[^1]); Add("head.fc.bias", classes);
        return d;
    }

    public static StateDict ResNet(bool bottleneck, int[] layers, int[] channels, int stem, Fill fill, int classes = 5, string origin = "resnet")
    {
        var d = new StateDict(origin);
        void Add(string key, params long[] shape) => d.Add(key, fill(key, shape));
        void Bn(string prefix, long c)
        {
            Add(prefix + "weight", c); Add(prefix + "bias", c); Add(prefix + "running_mean", c); Add(prefix + "running_var", c);
            Add(prefix + "num_batches_tracked");
        }
        Add("conv1.weight", stem, 3, 7, 7); Bn("bn1.", stem);
        int expansion = bottleneck ? 4 : 1, inplanes = stem;
        for (int s = 0; s < layers.Length; s++)
        {
            int planes = channels[s], output = planes * expansion;
            for (int i = 0; i < layers[s]; i++)
            {
                string b = $"layer{s + 1}.{i}.";
                if (bottleneck)
                {
                    Add(b + "conv1.weight", planes, inplanes, 1, 1); Bn(b + "bn1.", planes);
                    Add(b + "conv2.weight", planes, planes, 3, 3); Bn(b + "bn2.", planes);
                    Add(b + "conv3.weight", output, planes, 1, 1); Bn(b + "bn3.", output);
                }
                else
                {
                    Add(b + "conv1.weight", planes, inplanes, 3, 3); Bn(b + "bn1.", planes);
                    Add(b + "conv2.weight", planes, planes, 3, 3); Bn(b + "bn2.", planes);
                }
                bool stride = s > 0 && i == 0;
                if (i == 0 && (stride || inplanes != output))
                {
                    Add(b + "downsample.0.weight", output, inplanes, 1, 1); Bn(b + "downsample.1.", output);
                }
                inplanes = output;
            }
        }
        Add("fc.weight", classes, inplanes); Add("fc.bias", classes);
        return d;
    }

    const double AxisBase = 1000, LayerBase = 1e13;

    /// <summary>
    /// Values that name their own position: Σ index_k·1000^(rank−1−k), plus (layer + 1)·10^13 for a key inside
    /// layer N, so a selected tensor shows which teacher layer and which indices it took. Scalars hold 7.
    /// </summary>
    public static Tensor Encoded(string key, long[] shape)
    {
        if (shape.Length == 0) return tensor(7L);
        using var scope = NewDisposeScope();
        var value = zeros(shape, ScalarType.Float64);
        for (int k = 0; k < shape.Length; k++)
        {
            var view = Enumerable.Repeat(1L, shape.Length).ToArray();
            view[k] = shape[k];
            value = value + arange(shape[k], ScalarType.Float64).reshape(view) * Math.Pow(AxisBase, shape.Length - 1 - k);
        }
        value = value + LayerTag(key) * LayerBase;
        return value.MoveToOuterDisposeScope();
    }

    /// <summary>Seeded normal values (scalars are 3).</summary>
    public static Fill Random(int seed) => (key, shape) =>
    {
        if (shape.Length == 0) return tensor(3L);
        var g = new Generator((ulong)(seed * 7919 + key.GetStableHashCode()));
        return randn(shape, ScalarType.Float32, generator: g);
    };

    static long GetStableHashCode(this string text)
    {
        long hash = 17;
        foreach (char c in text) hash = (hash * 31 + c) % 1_000_003;
        return hash;
    }

    static long LayerTag(string key)
    {
        var m = Regex.Match(key, @"(?:blocks|layer\d+)\.(\d+)\.");
        return m.Success ? long.Parse(m.Groups[1].Value) + 1 : 0;
    }

    /// <summary>The teacher layer an encoded tensor came from (−1 outside layers).</summary>
    public static long DecodeLayer(Tensor selected) => (long)Math.Floor(selected.flatten()[0].ToDouble() / LayerBase) - 1;

    /// <summary>
    /// The teacher indices along <paramref name="axis"/> of an encoded tensor; asserts that the indices along that
    /// axis are the same at every position of the other axes (a true index selection).
    /// </summary>
    public static long[] Decode(Tensor selected, int axis)
    {
        var shape = selected.shape;
        var values = selected.to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
        var result = new long[shape[axis]];
        var seen = new bool[shape[axis]];
        var strides = new long[shape.Length];
        for (int k = shape.Length - 1, s = 1; k >= 0; s *= (int)shape[k], k--) strides[k] = s;
        for (long flat = 0; flat < values.Length; flat++)
        {
            long position = flat / strides[axis] % shape[axis];
            double withinLayer = values[flat] % LayerBase;
            long index = (long)Math.Floor(withinLayer / Math.Pow(AxisBase, shape.Length - 1 - axis)) % (long)AxisBase;
            if (!seen[position]) { result[position] = index; seen[position] = true; }
            else if (result[position] != index)
                throw new Xunit.Sdk.XunitException($"Axis {axis} position {position} takes teacher index {result[position]} and {index}: not an index selection.");
        }
        return result;
    }
}

using MLNet.WeightSelection.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ImageClassification;

/// <summary>Size and compute of an architecture: learnable parameters and multiply-adds for one image.</summary>
/// <param name="Parameters">Learnable parameters (buffers such as BatchNorm statistics excluded).</param>
/// <param name="MegaFlops">Millions of multiply-adds for one image at the spec's image size: every convolution and linear
/// layer, plus a ViT's attention products (q·kᵀ and attention·v). The usual "FLOPs" of papers and timm.</param>
public sealed record ModelCost(long Parameters, double MegaFlops)
{
    /// <summary>Builds the architecture once on the CPU and runs one image through it, counting as it goes.</summary>
    public static ModelCost Of(ModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        using var scope = NewDisposeScope();
        using var model = spec.CreateModel();
        model.eval();
        long parameters = model.parameters().Sum(p => p.numel());

        long macs = 0;
        var removers = new List<Action>();
        foreach (var (name, module) in model.named_modules())
        {
            if (module is not nn.Module<Tensor, Tensor> layer) continue;
            if (module is Conv2d or Linear)
            {
                bool attentionQkv = name.EndsWith("attn.qkv", StringComparison.Ordinal);
                var hook = layer.register_forward_hook((m, input, output) =>
                {
                    var weight = m is Linear linear ? linear.weight! : ((Conv2d)m).weight!;
                    // Each output element takes one multiply-add per weight element feeding it.
                    long perOutput = weight.shape.Skip(1).Aggregate(1L, (a, b) => a * b);
                    long batch = output.shape[0];
                    macs += output.numel() / batch * perOutput;
                    if (attentionQkv)
                    {
                        // [B, N, 3·inner]: q·kᵀ and attention·v each cost N·N·inner.
                        long tokens = output.shape[1], inner = output.shape[2] / 3;
                        macs += 2 * tokens * tokens * inner;
                    }
                    return output;
                });
                removers.Add(hook.remove);
            }
        }
        try
        {
            // A batch of 16, counted per image: with smaller batches libtorch's CPU convolution probes NNPACK and prints a
            // warning per layer on CPUs NNPACK does not support.
            using (no_grad())
                model.call(zeros(16, spec.InChans, spec.ImageSize, spec.ImageSize));
        }
        finally
        {
            foreach (var remove in removers) remove();
        }
        return new ModelCost(parameters, macs / 1e6);
    }
}

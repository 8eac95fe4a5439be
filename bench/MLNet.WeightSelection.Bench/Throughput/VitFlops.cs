using MLNet.WeightSelection.Models.Vit;

namespace MLNet.WeightSelection.Bench.Throughput;

/// <summary>
/// FLOPs of a ViT forward pass per image, counted analytically from its shapes (one multiply-add = 2 FLOPs). Only
/// matrix products are counted: LayerNorm, softmax, GELU, bias and residual additions are O(T·D) each and add well
/// under 1 % at these sizes, so the count is a slight under-estimate. With T tokens (patches + class token), width D,
/// MLP ratio r and P patches of p×p×C pixels:
/// <list type="bullet">
/// <item>patch embedding: 2·P·(C·p²)·D;</item>
/// <item>per block: qkv 2·T·D·3D, attention scores q·kᵀ 2·T²·D, attention × v 2·T²·D, proj 2·T·D², MLP 2·2·T·D·rD;</item>
/// <item>head: 2·D·classes (on the class token only).</item>
/// </list>
/// A training step costs about 3× the forward pass (the backward pass computes gradients with respect to both the
/// inputs and the weights of every product: twice the forward work).
/// </summary>
static class VitFlops
{
    public static double Forward(VisionTransformerSpec s)
    {
        double p = s.PatchSize, c = s.InChans, d = s.EmbedDim;
        double patches = Math.Pow(s.ImageSize / s.PatchSize, 2);
        double t = patches + s.NumPrefixTokens;
        double hidden = s.MlpHiddenDim;
        double patchEmbed = 2 * patches * (c * p * p) * d;
        double block = 2 * t * d * 3 * d + 2 * t * t * d + 2 * t * t * d + 2 * t * d * d + 2 * 2 * t * d * hidden;
        double head = 2 * d * s.NumClasses;
        return patchEmbed + s.Depth * block + head;
    }

    public static double TrainingStep(VisionTransformerSpec s) => 3 * Forward(s);
}

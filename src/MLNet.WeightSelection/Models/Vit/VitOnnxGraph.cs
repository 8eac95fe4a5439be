using MLNet.WeightSelection.Models.Onnx;

namespace MLNet.WeightSelection.Models.Vit;

/// <summary>
/// timm's VisionTransformer forward pass (eval) as ONNX nodes: patch embedding, class token and position embedding,
/// pre-norm blocks with fused-qkv multi-head attention, final norm, pooling and head. LayerNorm eps is 1e-6.
/// </summary>
internal static class VitOnnxGraph
{
    const float Eps = 1e-6f;

    /// <summary>Adds the network from normalized NCHW <paramref name="x"/>; returns the pooled features and the logits (null without head).</summary>
    public static (string Features, string? Logits) Build(OnnxGraphBuilder g, string x, ExportWeights w, VisionTransformerSpec spec)
    {
        if (spec.GlobalPool == "")
            throw new NotSupportedException("A ViT with global_pool \"\" classifies every token; the ONNX export needs pooled features (\"token\", \"avg\", \"max\" or \"avgmax\").");
        long d = spec.EmbedDim;
        var proj = g.Conv("patch_embed.proj", x, w["patch_embed.proj.weight"], w["patch_embed.proj.bias"], spec.PatchSize, 0);
        var tokens = g.Transpose("patch_embed", g.Reshape("patch_embed", proj, 0, d, -1), 0, 2, 1); // [N, grid², D]

        if (spec.ClassToken)
        {
            // Expand the [1, 1, D] token to the batch: shape [N, 1, D] from the batch size of the input.
            var batch = g.Node("Shape", "cls_token", new[] { tokens }, ("start", 0L), ("end", 1L));
            var shape = g.Node("Concat", "cls_token", new[] { batch, g.Longs("one_by_dim", new[] { 1L, d }, 2) }, ("axis", 0L));
            var cls = g.Node("Expand", "cls_token", new[] { g.Initializer("cls_token", w["cls_token"]), shape });
            tokens = g.Node("Concat", "prefix_tokens", new[] { cls, tokens }, ("axis", 1L));
        }
        tokens = g.Node("Add", "pos_embed", new[] { tokens, g.Initializer("pos_embed", w["pos_embed"]) });

        for (int i = 0; i < spec.Depth; i++)
            tokens = Block(g, tokens, w, $"blocks.{i}", spec);
        if (!spec.UsesFcNorm) tokens = g.LayerNorm("norm", tokens, w["norm.weight"], w["norm.bias"], Eps);

        var pooled = Pool(g, tokens, spec);
        if (spec.UsesFcNorm) pooled = g.LayerNorm("fc_norm", pooled, w["fc_norm.weight"], w["fc_norm.bias"], Eps);
        string? logits = w.Contains("head.weight") ? g.Gemm("head", pooled, w["head.weight"], w["head.bias"]) : null;
        return (pooled, logits);
    }

    static string Block(OnnxGraphBuilder g, string x, ExportWeights w, string p, VisionTransformerSpec spec)
    {
        var y = Attention(g, g.LayerNorm(p + ".norm1", x, w[p + ".norm1.weight"], w[p + ".norm1.bias"], Eps), w, p + ".attn", spec);
        if (w.Optional(p + ".ls1.gamma") is { } gamma1) y = g.Node("Mul", p + ".ls1", new[] { y, g.Initializer(p + ".ls1.gamma", gamma1) });
        x = g.Node("Add", p + ".residual1", new[] { x, y });

        var z = g.LayerNorm(p + ".norm2", x, w[p + ".norm2.weight"], w[p + ".norm2.bias"], Eps);
        z = g.Linear(p + ".mlp.fc1", z, w[p + ".mlp.fc1.weight"], w[p + ".mlp.fc1.bias"]);
        z = g.Gelu(p + ".mlp.act", z);
        z = g.Linear(p + ".mlp.fc2", z, w[p + ".mlp.fc2.weight"], w[p + ".mlp.fc2.bias"]);
        if (w.Optional(p + ".ls2.gamma") is { } gamma2) z = g.Node("Mul", p + ".ls2", new[] { z, g.Initializer(p + ".ls2.gamma", gamma2) });
        return g.Node("Add", p + ".residual2", new[] { x, z });
    }

    static string Attention(OnnxGraphBuilder g, string x, ExportWeights w, string p, VisionTransformerSpec spec)
    {
        long heads = spec.NumHeads, headDim = spec.EmbedDim / spec.NumHeads;
        var qkv = g.Linear(p + ".qkv", x, w[p + ".qkv.weight"], w.Optional(p + ".qkv.bias"));
        // [N, T, 3·D] → [N, T, 3, heads, head_dim] → [3, N, heads, T, head_dim], as timm lays out q, k and v.
        qkv = g.Transpose(p + ".qkv", g.Reshape(p + ".qkv", qkv, 0, 0, 3, heads, headDim), 2, 0, 3, 1, 4);
        string Part(long i, string role) => g.Node("Gather", $"{p}.{role}", new[] { qkv, g.Longs($"index{i}", new[] { i }) }, ("axis", 0L));
        var q = g.Node("Mul", p + ".scale", new[] { Part(0, "q"), g.Scalar("attn_scale", (float)Math.Pow(headDim, -0.5)) });
        var kT = g.Transpose(p + ".k", Part(1, "k"), 0, 1, 3, 2);
        var attn = g.Node("Softmax", p + ".attn", new[] { g.Node("MatMul", p + ".scores", new[] { q, kT }) }, ("axis", -1L));
        var y = g.Node("MatMul", p + ".weighted", new[] { attn, Part(2, "v") });
        y = g.Reshape(p + ".merge_heads", g.Transpose(p + ".merge_heads", y, 0, 2, 1, 3), 0, 0, spec.EmbedDim);
        return g.Linear(p + ".proj", y, w[p + ".proj.weight"], w[p + ".proj.bias"]);
    }

    static string Pool(OnnxGraphBuilder g, string tokens, VisionTransformerSpec spec)
    {
        if (spec.GlobalPool == "token")
            return g.Node("Gather", "pool_token", new[] { tokens, g.Longs("index0", new[] { 0L }) }, ("axis", 1L));
        var patches = spec.NumPrefixTokens == 0 ? tokens
            : g.Node("Slice", "patch_tokens", new[]
            {
                tokens, g.Longs("prefix_start", new long[] { spec.NumPrefixTokens }, 1),
                g.Longs("end_max", new[] { long.MaxValue }, 1), g.Longs("axis1", new[] { 1L }, 1),
            });
        var axes = new[] { 1L };
        return spec.GlobalPool switch
        {
            "avg" => g.Reduce("ReduceMean", "pool_avg", patches, axes, false),
            "max" => g.Reduce("ReduceMax", "pool_max", patches, axes, false),
            _ => g.Node("Mul", "pool_avgmax", new[]
            {
                g.Node("Add", "pool_avgmax", new[] { g.Reduce("ReduceMax", "pool_max", patches, axes, false), g.Reduce("ReduceMean", "pool_avg", patches, axes, false) }),
                g.Scalar("half", 0.5f),
            }),
        };
    }
}

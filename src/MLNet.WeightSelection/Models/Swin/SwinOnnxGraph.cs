using MLNet.WeightSelection.Models.Onnx;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.Swin;

/// <summary>
/// timm's SwinTransformer forward pass (eval) as ONNX nodes, channels last like timm: patch embedding, per stage a
/// patch merging (Reshape/Transpose of the 2×2 neighbours, LayerNorm, MatMul) and blocks with shifted-window attention
/// (roll as Slice + Concat, padding to whole windows as Pad, window partition and reverse as Reshape/Transpose, the
/// relative position bias gathered from the table at export time and the shift mask as initializers), final norm,
/// average pooling and <c>head.fc</c>. LayerNorm eps is 1e-5. Every size but the batch is fixed by the spec.
/// </summary>
internal static class SwinOnnxGraph
{
    const float Eps = 1e-5f;

    /// <summary>Adds the network from normalized NCHW <paramref name="x"/>; returns the pooled features and the logits (null without head).</summary>
    public static (string Features, string? Logits) Build(OnnxGraphBuilder g, string x, ExportWeights w, SwinSpec spec)
    {
        if (spec.GlobalPool != "avg")
            throw new NotSupportedException("A Swin Transformer with global_pool \"\" classifies every position; the ONNX export needs pooled features (\"avg\").");
        var y = g.Conv("patch_embed.proj", x, w["patch_embed.proj.weight"], w["patch_embed.proj.bias"], spec.PatchSize, 0);
        y = g.Transpose("patch_embed.nhwc", y, 0, 2, 3, 1);
        y = g.LayerNorm("patch_embed.norm", y, w["patch_embed.norm.weight"], w["patch_embed.norm.bias"], Eps);
        for (int s = 0; s < spec.NumStages; s++)
        {
            if (s > 0) y = PatchMerging(g, y, w, $"layers.{s}.downsample", spec.StageResolution(s - 1), spec.StageDim(s - 1));
            for (int b = 0; b < spec.Depths[s]; b++)
                y = Block(g, y, w, $"layers.{s}.blocks.{b}", spec, s, b);
        }
        y = g.LayerNorm("norm", y, w["norm.weight"], w["norm.bias"], Eps);
        var pooled = g.Reduce("ReduceMean", "head.global_pool", y, new long[] { 1, 2 }, false);
        string? logits = w.Contains("head.fc.weight") ? g.Gemm("head.fc", pooled, w["head.fc.weight"], w["head.fc.bias"]) : null;
        return (pooled, logits);
    }

    static string PatchMerging(OnnxGraphBuilder g, string x, ExportWeights w, string p, long side, long c)
    {
        // [N, H, W, C] → [N, H/2, 2, W/2, 2, C] → [N, H/2, W/2, 2(w), 2(h), C] → [N, H/2, W/2, 4C], timm's concat order.
        x = g.Reshape(p + ".split", x, -1, side / 2, 2, side / 2, 2, c);
        x = g.Reshape(p + ".merge", g.Transpose(p + ".merge", x, 0, 1, 3, 4, 2, 5), -1, side / 2, side / 2, 4 * c);
        x = g.LayerNorm(p + ".norm", x, w[p + ".norm.weight"], w[p + ".norm.bias"], Eps);
        return g.Linear(p + ".reduction", x, w[p + ".reduction.weight"], null);
    }

    static string Block(OnnxGraphBuilder g, string x, ExportWeights w, string p, SwinSpec spec, int stage, int index)
    {
        long side = spec.StageResolution(stage), c = spec.StageDim(stage);
        int window = spec.StageWindow(stage), shift = index % 2 == 1 ? spec.StageShift(stage) : 0;
        long padded = SwinWindows.PaddedSide((int)side, window), perSide = padded / window, area = (long)window * window;

        var y = g.LayerNorm(p + ".norm1", x, w[p + ".norm1.weight"], w[p + ".norm1.bias"], Eps);
        if (shift > 0) y = Roll(g, p + ".shift", y, side, (int)(side - shift)); // roll by −shift
        if (padded != side)
            y = g.Node("Pad", p + ".pad", new[] { y, g.Longs("pads", new long[] { 0, 0, 0, 0, 0, padded - side, padded - side, 0 }, 8) });
        // Window partition: [N, Hp, Wp, C] → [N·windows, w², C].
        y = g.Reshape(p + ".partition", y, -1, perSide, window, perSide, window, c);
        y = g.Reshape(p + ".partition", g.Transpose(p + ".partition", y, 0, 1, 3, 2, 4, 5), -1, area, c);
        y = Attention(g, y, w, p + ".attn", spec, stage, window, shift, perSide * perSide);
        // Window reverse: [N·windows, w², C] → [N, Hp, Wp, C].
        y = g.Reshape(p + ".reverse", y, -1, perSide, perSide, window, window, c);
        y = g.Reshape(p + ".reverse", g.Transpose(p + ".reverse", y, 0, 1, 3, 2, 4, 5), -1, padded, padded, c);
        if (padded != side) y = Slice(g, p + ".crop", Slice(g, p + ".crop", y, 1, 0, side), 2, 0, side);
        if (shift > 0) y = Roll(g, p + ".unshift", y, side, shift);
        x = g.Node("Add", p + ".residual1", new[] { x, y });

        var z = g.LayerNorm(p + ".norm2", x, w[p + ".norm2.weight"], w[p + ".norm2.bias"], Eps);
        z = g.Linear(p + ".mlp.fc1", z, w[p + ".mlp.fc1.weight"], w[p + ".mlp.fc1.bias"]);
        z = g.Gelu(p + ".mlp.act", z);
        z = g.Linear(p + ".mlp.fc2", z, w[p + ".mlp.fc2.weight"], w[p + ".mlp.fc2.bias"]);
        return g.Node("Add", p + ".residual2", new[] { x, z });
    }

    static string Attention(OnnxGraphBuilder g, string x, ExportWeights w, string p, SwinSpec spec, int stage, int window, int shift, long windows)
    {
        long heads = spec.NumHeads[stage], attnDim = spec.AttentionDim(stage), headDim = attnDim / heads, area = (long)window * window;
        var qkv = g.Linear(p + ".qkv", x, w[p + ".qkv.weight"], w.Optional(p + ".qkv.bias"));
        // [B, N, 3·D] → [B, N, 3, heads, head_dim] → [3, B, heads, N, head_dim], as timm lays out q, k and v.
        qkv = g.Transpose(p + ".qkv", g.Reshape(p + ".qkv", qkv, -1, area, 3, heads, headDim), 2, 0, 3, 1, 4);
        string Part(long i, string role) => g.Node("Gather", $"{p}.{role}", new[] { qkv, g.Longs($"index{i}", new[] { i }) }, ("axis", 0L));
        var q = g.Node("Mul", p + ".scale", new[] { Part(0, "q"), g.Scalar("attn_scale_" + headDim, (float)Math.Pow(headDim, -0.5)) });
        var scores = g.Node("MatMul", p + ".scores", new[] { q, g.Transpose(p + ".k", Part(1, "k"), 0, 1, 3, 2) });
        scores = g.Node("Add", p + ".relative_position_bias", new[] { scores, g.Initializer(p + ".relative_position_bias", Bias(w, p, window, heads)) });
        if (SwinWindows.AttentionMask(spec.StageResolution(stage), window, shift) is { } mask)
        {
            var maskInit = g.Floats(p + ".attn_mask", mask, 1, windows, 1, area, area);
            scores = g.Reshape(p + ".mask", scores, -1, windows, heads, area, area);
            scores = g.Reshape(p + ".mask", g.Node("Add", p + ".mask", new[] { scores, maskInit }), -1, heads, area, area);
        }
        var attn = g.Node("Softmax", p + ".softmax", new[] { scores }, ("axis", -1L));
        var y = g.Node("MatMul", p + ".weighted", new[] { attn, Part(2, "v") });
        y = g.Reshape(p + ".merge_heads", g.Transpose(p + ".merge_heads", y, 0, 2, 1, 3), -1, area, attnDim);
        return g.Linear(p + ".proj", y, w[p + ".proj.weight"], w[p + ".proj.bias"]);
    }

    // The table gathered through the fixed relative position index: [1, heads, w², w²].
    static Tensor Bias(ExportWeights w, string p, int window, long heads)
    {
        var table = w[p + ".relative_position_bias_table"];
        using var index = tensor(SwinWindows.RelativePositionIndex(window), ScalarType.Int64).to(table.device);
        long area = (long)window * window;
        return table.index_select(0, index).view(area, area, heads).permute(2, 0, 1).unsqueeze(0).contiguous();
    }

    // torch.roll by +shift along H and W (axes 1 and 2) of a side×side map: the last `shift` rows move to the front.
    static string Roll(OnnxGraphBuilder g, string name, string x, long side, int shift)
    {
        foreach (long axis in new long[] { 1, 2 })
        {
            var tail = Slice(g, name, x, axis, side - shift, side);
            var head = Slice(g, name, x, axis, 0, side - shift);
            x = g.Node("Concat", name, new[] { tail, head }, ("axis", axis));
        }
        return x;
    }

    static string Slice(OnnxGraphBuilder g, string name, string x, long axis, long start, long end) =>
        g.Node("Slice", name, new[]
        {
            x, g.Longs("slice_start", new[] { start }, 1), g.Longs("slice_end", new[] { end }, 1), g.Longs("slice_axis", new[] { axis }, 1),
        });
}

using System.Globalization;

namespace MLNet.WeightSelection.Models.EfficientNet;

/// <summary>The two block types of EfficientNet B0–B8 in timm's block strings.</summary>
public enum EfficientNetBlockType
{
    /// <summary><c>ds</c>: timm's <c>DepthwiseSeparableConv</c> (depthwise conv, SE, pointwise conv), no expansion.</summary>
    DepthwiseSeparable,

    /// <summary><c>ir</c>: timm's <c>InvertedResidual</c> (MBConv: pointwise expansion, depthwise conv, SE, pointwise projection).</summary>
    InvertedResidual,
}

/// <summary>
/// One of timm's block definition strings, such as <c>ir_r2_k3_s2_e6_c24_se0.25</c>: the block type (<c>ds</c> or
/// <c>ir</c>) then options in any order: <c>r</c> repeats, <c>k</c> depthwise kernel size, <c>s</c> stride, <c>e</c>
/// expansion ratio, <c>c</c> output channels (before the channel multiplier), <c>se</c> squeeze-excitation ratio, and
/// <c>noskip</c>. The other options of timm's builder (activation, kernel lists, groups, CondConv, space-to-depth) and
/// its other block types are not part of EfficientNet B0–B8 and are refused.
/// </summary>
/// <param name="Type">The block type.</param>
/// <param name="Repeats">How many blocks the string stands for before depth scaling (<c>r</c>).</param>
/// <param name="KernelSize">The depthwise kernel size (<c>k</c>).</param>
/// <param name="Stride">The stride of the first block (<c>s</c>, 1 or 2); later repeats have stride 1.</param>
/// <param name="ExpRatio">The expansion ratio of an inverted residual (<c>e</c>; 1 for <c>ds</c>).</param>
/// <param name="OutChannels">Output channels before the channel multiplier (<c>c</c>).</param>
/// <param name="SeRatio">Squeeze-excitation ratio of the block's input channels (<c>se</c>; 0: no SE).</param>
/// <param name="NoSkip">No residual connection even where the shapes allow one (<c>noskip</c>).</param>
public sealed record EfficientNetBlockDef(EfficientNetBlockType Type, int Repeats, int KernelSize, int Stride, double ExpRatio,
    int OutChannels, double SeRatio, bool NoSkip)
{
    /// <summary>Parses a block string.</summary>
    /// <exception cref="ArgumentException">The string is not a <c>ds</c> or <c>ir</c> block of the supported options; the message names it.</exception>
    public static EfficientNetBlockDef Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ops = text.Split('_');
        var type = ops[0] switch
        {
            "ds" => EfficientNetBlockType.DepthwiseSeparable,
            "ir" => EfficientNetBlockType.InvertedResidual,
            _ => throw Bad(text, $"block type '{ops[0]}' is not supported (ds or ir)"),
        };
        bool noSkip = false;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var op in ops.Skip(1))
        {
            if (op == "noskip") { noSkip = true; continue; }
            // timm splits an option at its first digit: "se0.25" is se = 0.25, "k3" is k = 3.
            int digit = op.IndexOfAny("0123456789".ToCharArray());
            if (digit <= 0) throw Bad(text, $"option '{op}' is not supported");
            string key = op[..digit], value = op[digit..];
            if (key is not ("r" or "k" or "s" or "e" or "c" or "se"))
                throw Bad(text, $"option '{op}' is not supported (r, k, s, e, c, se, noskip)");
            if (!values.TryAdd(key, value)) throw Bad(text, $"option '{key}' is given twice");
        }
        int Int(string key, int? fallback = null)
        {
            if (!values.TryGetValue(key, out var v))
                return fallback ?? throw Bad(text, $"option '{key}' is missing");
            return int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int i) ? i : throw Bad(text, $"option '{key}{v}' is not an integer");
        }
        double Number(string key, double fallback)
        {
            if (!values.TryGetValue(key, out var v)) return fallback;
            return double.TryParse(v, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double d) ? d : throw Bad(text, $"option '{key}{v}' is not a number");
        }
        // A ds block has no expansion; timm reads and ignores its "e" (B0's first stage says e1).
        var def = new EfficientNetBlockDef(type, Int("r"), Int("k"), Int("s"),
            type == EfficientNetBlockType.InvertedResidual ? Number("e", double.NaN) : 1.0, Int("c"), Number("se", 0.0), noSkip);
        if (double.IsNaN(def.ExpRatio)) throw Bad(text, "option 'e' is missing");
        if (def.Repeats < 1) throw Bad(text, "r must be >= 1");
        if (def.KernelSize < 1) throw Bad(text, "k must be >= 1");
        if (def.Stride is not (1 or 2)) throw Bad(text, "s must be 1 or 2");
        if (def.ExpRatio <= 0) throw Bad(text, "e must be positive");
        if (def.OutChannels < 1) throw Bad(text, "c must be >= 1");
        if (def.SeRatio is < 0 or > 1) throw Bad(text, "se must lie in [0, 1]");
        return def;
    }

    static ArgumentException Bad(string text, string problem) => new($"efficientnet block string '{text}': {problem}.");
}

/// <summary>One block of a built EfficientNet, after depth and channel scaling (what timm's builder hands each block).</summary>
/// <param name="Type">The block type.</param>
/// <param name="InChannels">Input channels.</param>
/// <param name="OutChannels">Output channels.</param>
/// <param name="MidChannels">Channels of the depthwise conv: the input's for ds, the expanded width for ir.</param>
/// <param name="KernelSize">Depthwise kernel size.</param>
/// <param name="Stride">Stride of the depthwise conv.</param>
/// <param name="SeChannels">Reduced channels of the squeeze-excitation (0: no SE).</param>
/// <param name="HasSkip">Whether the block adds its input to its output (stride 1, same width, not noskip).</param>
/// <param name="DropPathRate">Stochastic-depth rate of the residual branch (used only with a skip).</param>
public sealed record EfficientNetBlockConfig(EfficientNetBlockType Type, int InChannels, int OutChannels, int MidChannels,
    int KernelSize, int Stride, int SeChannels, bool HasSkip, double DropPathRate);

using System.Text.Json;

namespace MLNet.WeightSelection.Models.Json;

/// <summary>
/// The <c>pretrained_cfg</c> member of a spec's JSON, like timm's pretrained config: <c>input_size</c> [C, H, W],
/// <c>mean</c>, <c>std</c>, <c>interpolation</c>, plus this project's <c>channel_order</c> ("rgb" | "bgr") and
/// <c>scale</c> (raw 0–255 pixels are divided by it) for teachers that are not fed timm's 0–1 RGB input.
/// </summary>
public static class PretrainedCfgJson
{
    /// <summary>Reads the convention and image size from <paramref name="cfg"/>, starting from the defaults given.</summary>
    public static (InputConvention Input, int? ImageSize) Read(KwargsReader cfg, InputConvention defaults)
    {
        int? imageSize = null;
        if (cfg.Has("input_size"))
        {
            var size = cfg.IntArray("input_size", null);
            if (size.Length != 3 || size[1] != size[2] || size[1] <= 0)
                throw cfg.Error("input_size", $"must be [channels, size, size] with a square positive size; got [{string.Join(", ", size)}]");
            imageSize = size[1];
        }
        var mean = cfg.FloatArray("mean", defaults.Mean);
        var std = cfg.FloatArray("std", defaults.Std);
        if (mean.Length != std.Length)
            throw cfg.Error("std", $"has {std.Length} values but mean has {mean.Length}");
        if (std.Any(s => s <= 0)) throw cfg.Error("std", "must be positive");
        string interpolation = cfg.String("interpolation", defaults.Interpolation, "bilinear", "bicubic", "nearest");
        string order = cfg.String("channel_order", defaults.Order == ChannelOrder.Bgr ? "bgr" : "rgb", "rgb", "bgr");
        double scale = cfg.Double("scale", defaults.Scale);
        if (scale <= 0) throw cfg.Error("scale", "must be positive");
        cfg.Skip("crop_pct");
        cfg.EnsureAllRead();
        var input = new InputConvention(order == "bgr" ? ChannelOrder.Bgr : ChannelOrder.Rgb, (float)scale, mean, std, interpolation);
        return (input, imageSize);
    }

    /// <summary>Writes <c>"pretrained_cfg": {...}</c>.</summary>
    public static void Write(Utf8JsonWriter writer, InputConvention input, int inChans, int imageSize)
    {
        writer.WriteStartObject("pretrained_cfg");
        writer.WriteIntArray("input_size", new[] { inChans, imageSize, imageSize });
        writer.WriteFloatArray("mean", input.Mean);
        writer.WriteFloatArray("std", input.Std);
        writer.WriteString("interpolation", input.Interpolation);
        writer.WriteString("channel_order", input.Order == ChannelOrder.Bgr ? "bgr" : "rgb");
        writer.WriteNumber("scale", input.Scale);
        writer.WriteEndObject();
    }
}

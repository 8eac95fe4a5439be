using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.Swin;

/// <summary>
/// The fixed tables of shifted-window attention, computed once from the window and the stage's resolution (timm keeps
/// them as non-persistent buffers, so they are in no state dict): the relative position index and the shift mask.
/// </summary>
internal static class SwinWindows
{
    /// <summary>The value timm adds to the scores of token pairs from different regions of a shifted window.</summary>
    public const float MaskValue = -100f;

    /// <summary>
    /// timm's <c>get_relative_position_index</c> for a w×w window, flattened row-major: for tokens a = (ya, xa) and
    /// b = (yb, xb) the row (ya − yb + w − 1)·(2w − 1) + (xa − xb + w − 1) of the bias table.
    /// </summary>
    public static long[] RelativePositionIndex(int window)
    {
        int area = window * window, side = 2 * window - 1;
        var index = new long[area * area];
        for (int a = 0; a < area; a++)
            for (int b = 0; b < area; b++)
            {
                int dy = a / window - b / window + window - 1, dx = a % window - b % window + window - 1;
                index[a * area + b] = dy * side + dx;
            }
        return index;
    }

    /// <summary>Side of the stage's map after padding to whole windows.</summary>
    public static int PaddedSide(int resolution, int window) => (resolution + window - 1) / window * window;

    /// <summary>
    /// timm's attention mask of a shifted block ([windows, w², w²] row-major, 0 or −100), or null without a shift. The
    /// padded map is split into 3×3 regions by the slices (0, −w), (−w, −shift), (−shift, end) on each axis; two tokens
    /// of one window see each other only when they lie in the same region.
    /// </summary>
    public static float[]? AttentionMask(int resolution, int window, int shift)
    {
        if (shift == 0) return null;
        int side = PaddedSide(resolution, window), perSide = side / window, area = window * window;
        int Region(int p) => p < side - window ? 0 : p < side - shift ? 1 : 2;
        var mask = new float[perSide * perSide * area * area];
        for (int wy = 0; wy < perSide; wy++)
            for (int wx = 0; wx < perSide; wx++)
            {
                int win = wy * perSide + wx;
                for (int a = 0; a < area; a++)
                {
                    int ra = Region(wy * window + a / window) * 3 + Region(wx * window + a % window);
                    for (int b = 0; b < area; b++)
                    {
                        int rb = Region(wy * window + b / window) * 3 + Region(wx * window + b % window);
                        mask[(win * area + a) * area + b] = ra == rb ? 0f : MaskValue;
                    }
                }
            }
        return mask;
    }

    /// <summary>timm's <c>window_partition</c>: [B, H, W, C] → [B·windows, w·w, C] (H and W multiples of w).</summary>
    public static Tensor Partition(Tensor x, int window)
    {
        long b = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3];
        return x.view(b, h / window, window, w / window, window, c).permute(0, 1, 3, 2, 4, 5)
            .reshape(-1, (long)window * window, c);
    }

    /// <summary>timm's <c>window_reverse</c>: [B·windows, w·w, C] → [B, H, W, C].</summary>
    public static Tensor Reverse(Tensor windows, int window, long h, long w)
    {
        long c = windows.shape[^1];
        return windows.view(-1, h / window, w / window, window, window, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, h, w, c);
    }
}

/// <summary>
/// A constant tensor a module keeps outside its state dict (timm's non-persistent buffers), made on the device of
/// the input it meets. Held in a plain class so that module registration does not take it for a buffer.
/// </summary>
internal sealed class DeviceConstant
{
    readonly Func<Tensor> _make;
    Tensor? _tensor;

    public DeviceConstant(Func<Tensor> make) => _make = make;

    /// <summary>The tensor on <paramref name="device"/> (made on the first call, moved when the device changes).</summary>
    public Tensor On(Device device)
    {
        if (_tensor is null || _tensor.device_type != device.type || _tensor.device_index != device.index)
        {
            var old = _tensor;
            using (NewDisposeScope())
            {
                var made = old is null ? _make() : old.to(device);
                _tensor = made.to(device).DetachFromDisposeScope();
            }
            if (old is not null && !ReferenceEquals(old, _tensor)) old.Dispose();
        }
        return _tensor;
    }
}

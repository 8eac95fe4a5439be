using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Checkpoints;

/// <summary>
/// Adapts absolute position embeddings to another token grid, as timm's <c>resample_abs_pos_embed</c> does when a
/// checkpoint is loaded at another image or patch size: prefix tokens (class, register) are kept, the grid is
/// interpolated bicubically with antialiasing.
/// </summary>
public static class PositionEmbeddings
{
    /// <summary>
    /// Resamples <paramref name="posEmbed"/> ([1, prefix + oldH·oldW, C]) to [1, prefix + newH·newW, C]. The old grid
    /// is taken as square unless <paramref name="oldGrid"/> is given. Returns a new tensor; the input is untouched.
    /// </summary>
    /// <exception cref="ArgumentException">The token count does not match the grid.</exception>
    public static Tensor Resample(Tensor posEmbed, (int H, int W) newGrid, int numPrefixTokens = 1,
        (int H, int W)? oldGrid = null, bool antialias = true)
    {
        if (posEmbed.dim() != 3 || posEmbed.shape[0] != 1)
            throw new ArgumentException($"A position embedding has shape [1, tokens, dim]; got [{string.Join(", ", posEmbed.shape)}].");
        long gridTokens = posEmbed.shape[1] - numPrefixTokens;
        var (oldH, oldW) = oldGrid ?? SquareGrid(gridTokens);
        if ((long)oldH * oldW != gridTokens)
            throw new ArgumentException($"A position embedding with {posEmbed.shape[1]} tokens and {numPrefixTokens} prefix tokens has no {oldH}x{oldW} grid.");
        if (oldH == newGrid.H && oldW == newGrid.W) return posEmbed.clone();

        using var scope = NewDisposeScope();
        long dim = posEmbed.shape[2];
        var prefix = posEmbed.narrow(1, 0, numPrefixTokens);
        var grid = posEmbed.narrow(1, numPrefixTokens, gridTokens)
            .reshape(1, oldH, oldW, dim).permute(0, 3, 1, 2).to_type(ScalarType.Float32);
        var resized = nn.functional.interpolate(grid, new long[] { newGrid.H, newGrid.W },
            mode: InterpolationMode.Bicubic, align_corners: false, antialias: antialias);
        var tokens = resized.permute(0, 2, 3, 1).reshape(1, (long)newGrid.H * newGrid.W, dim).to_type(posEmbed.dtype);
        var result = numPrefixTokens > 0 ? cat(new[] { prefix, tokens }, 1) : tokens.contiguous();
        return result.MoveToOuterDisposeScope();
    }

    static (int, int) SquareGrid(long tokens)
    {
        int side = (int)Math.Round(Math.Sqrt(tokens));
        if ((long)side * side != tokens)
            throw new ArgumentException($"{tokens} grid tokens do not form a square grid; pass the old grid size.");
        return (side, side);
    }
}

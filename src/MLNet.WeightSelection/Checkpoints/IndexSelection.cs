namespace MLNet.WeightSelection.Checkpoints;

/// <summary>Checks per-axis index lists given to <see cref="ITensorSource.ReadSelected"/> against a tensor's shape.</summary>
internal static class IndexSelection
{
    /// <summary>
    /// Throws when <paramref name="indices"/> does not hold one entry per axis of <paramref name="shape"/> or when an
    /// index is outside its axis. Returns the selected shape.
    /// </summary>
    public static long[] Validate(string origin, string key, long[] shape, IReadOnlyList<long[]?> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (indices.Count != shape.Length)
            throw new ArgumentException(
                $"{origin}: '{key}' has {shape.Length} axes (shape [{string.Join(", ", shape)}]) but {indices.Count} index lists were given.",
                nameof(indices));
        var result = new long[shape.Length];
        for (int axis = 0; axis < shape.Length; axis++)
        {
            if (indices[axis] is not { } idx) { result[axis] = shape[axis]; continue; }
            foreach (long i in idx)
            {
                if (i < 0 || i >= shape[axis])
                    throw new ArgumentOutOfRangeException(nameof(indices),
                        $"{origin}: index {i} on axis {axis} of '{key}' is outside [0, {shape[axis]}) (shape [{string.Join(", ", shape)}]).");
            }
            result[axis] = idx.Length;
        }
        return result;
    }
}

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

    /// <summary>
    /// The element offsets, within one row of axis 0, of the selected elements of the other axes, in the order they
    /// take in the result; null when no axis after the first is selected (whole rows).
    /// </summary>
    public static long[]? InnerElementOffsets(long[] shape, IReadOnlyList<long[]?> indices)
    {
        bool any = false;
        for (int axis = 1; axis < shape.Length; axis++) any |= indices[axis] is not null;
        if (!any) return null;
        long[] offsets = { 0 };
        for (int axis = 1; axis < shape.Length; axis++)
        {
            long stride = 1;
            for (int inner = axis + 1; inner < shape.Length; inner++) stride *= shape[inner];
            long[] chosen = indices[axis] ?? Enumerable.Range(0, checked((int)shape[axis])).Select(i => (long)i).ToArray();
            var next = new long[checked(offsets.Length * chosen.Length)];
            int k = 0;
            foreach (long offset in offsets)
                foreach (long index in chosen)
                    next[k++] = offset + index * stride;
            offsets = next;
        }
        return offsets;
    }
}

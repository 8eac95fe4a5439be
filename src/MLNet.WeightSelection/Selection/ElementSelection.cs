namespace MLNet.WeightSelection.Selection;

/// <summary>How element selection picks the student's elements out of a teacher tensor.</summary>
public enum ElementSelectionMethod
{
    /// <summary>Evenly spaced indices on every width (the paper's default).</summary>
    Uniform,

    /// <summary>The first s indices of every width.</summary>
    Consecutive,

    /// <summary>A seeded random subset per width, shared by every tensor tied to the width.</summary>
    RandomConsistent,

    /// <summary>A seeded random subset per tensor axis: the paper's ablation without consistency (Table 3).</summary>
    RandomInconsistent,

    /// <summary>Each width ranked once by the summed |w| of the teacher tensors tied to it; the top s, ascending.</summary>
    L1,

    /// <summary>Per tensor, the top-|w| elements in their original order, reshaped into the student's shape
    /// (the paper's magnitude-pruning baseline; inconsistent by nature).</summary>
    Magnitude,
}

/// <summary>
/// Step 3 of weight selection: which elements of each teacher tensor the student keeps. Consistent methods compute
/// one index set per width and index every tensor axis tied to that width through it.
/// </summary>
public sealed record ElementSelection
{
    ElementSelection(ElementSelectionMethod method, int seed)
    {
        Method = method;
        Seed = seed;
    }

    /// <summary>The method.</summary>
    public ElementSelectionMethod Method { get; }

    /// <summary>The seed of the random methods (0 for the others).</summary>
    public int Seed { get; }

    /// <summary>Uniform (default): teacher size t, student size s: <c>i·(t/s)</c> when s divides t, otherwise
    /// <c>round(linspace(0, t − 1, s))</c>, half to even.</summary>
    public static ElementSelection Uniform { get; } = new(ElementSelectionMethod.Uniform, 0);

    /// <summary>Consecutive: the first s indices.</summary>
    public static ElementSelection Consecutive { get; } = new(ElementSelectionMethod.Consecutive, 0);

    /// <summary>L1: rank each width once by the summed |w| of its teacher tensors; keep the top s, ascending.</summary>
    public static ElementSelection L1 { get; } = new(ElementSelectionMethod.L1, 0);

    /// <summary>Magnitude: per tensor, the top-|w| elements in original order (inconsistent baseline).</summary>
    public static ElementSelection Magnitude { get; } = new(ElementSelectionMethod.Magnitude, 0);

    /// <summary>Random with consistency: one seeded subset per width.</summary>
    public static ElementSelection RandomConsistent(int seed) => new(ElementSelectionMethod.RandomConsistent, seed);

    /// <summary>Random without consistency: every tensor axis draws its own seeded subset.</summary>
    public static ElementSelection RandomInconsistent(int seed) => new(ElementSelectionMethod.RandomInconsistent, seed);

    /// <summary>True when the method uses one index set per width for every tensor tied to it.</summary>
    public bool IsConsistent => Method is not (ElementSelectionMethod.RandomInconsistent or ElementSelectionMethod.Magnitude);

    /// <summary>The public reference's uniform rule: <c>i·(t/s)</c> when s divides t, else rounded linspace.</summary>
    public static long[] UniformIndices(long teacherSize, long studentSize)
    {
        CheckSizes(teacherSize, studentSize);
        if (teacherSize % studentSize == 0)
        {
            long step = teacherSize / studentSize;
            var result = new long[studentSize];
            for (long i = 0; i < studentSize; i++) result[i] = i * step;
            return result;
        }
        return RoundedLinspace(teacherSize, studentSize);
    }

    /// <summary>
    /// <c>round(linspace(0, t − 1, s))</c> computed as numpy does in double precision (start + i·step with
    /// step = (t − 1)/(s − 1), the last point exactly t − 1), rounded half to even; [0] when s is 1.
    /// </summary>
    public static long[] RoundedLinspace(long teacherSize, long studentSize)
    {
        CheckSizes(teacherSize, studentSize);
        var result = new long[studentSize];
        if (studentSize == 1) return result;
        double stop = teacherSize - 1, step = stop / (studentSize - 1);
        for (long i = 0; i < studentSize; i++)
            result[i] = (long)Math.Round(i == studentSize - 1 ? stop : i * step, MidpointRounding.ToEven);
        return result;
    }

    /// <summary>The first <paramref name="studentSize"/> indices.</summary>
    public static long[] ConsecutiveIndices(long teacherSize, long studentSize)
    {
        CheckSizes(teacherSize, studentSize);
        var result = new long[studentSize];
        for (long i = 0; i < studentSize; i++) result[i] = i;
        return result;
    }

    /// <summary>
    /// A random subset of size <paramref name="studentSize"/>, ascending, determined by <paramref name="seed"/> and
    /// <paramref name="stream"/> (a width name or a key and axis), so each stream draws independently and
    /// reproducibly on every platform.
    /// </summary>
    public static long[] RandomIndices(long teacherSize, long studentSize, int seed, string stream)
    {
        CheckSizes(teacherSize, studentSize);
        var rng = new Random(unchecked(seed * 486187739 ^ (int)StableHash(stream)));
        var pool = new long[teacherSize];
        for (long i = 0; i < teacherSize; i++) pool[i] = i;
        for (long i = 0; i < studentSize; i++)
        {
            long j = i + rng.NextInt64(teacherSize - i);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }
        var result = pool[..(int)studentSize];
        Array.Sort(result);
        return result;
    }

    /// <summary>The indices of the <paramref name="studentSize"/> largest scores (ties to the lower index), ascending.</summary>
    public static long[] TopIndices(IReadOnlyList<double> scores, long studentSize)
    {
        CheckSizes(scores.Count, studentSize);
        var result = Enumerable.Range(0, scores.Count)
            .OrderByDescending(i => scores[i]).ThenBy(i => i)
            .Take((int)studentSize).Select(i => (long)i).ToArray();
        Array.Sort(result);
        return result;
    }

    /// <summary>Short name for reports: <c>uniform</c>, <c>random-consistent(seed=1)</c>, …</summary>
    public override string ToString() => Method switch
    {
        ElementSelectionMethod.Uniform => "uniform",
        ElementSelectionMethod.Consecutive => "consecutive",
        ElementSelectionMethod.RandomConsistent => $"random-consistent(seed={Seed})",
        ElementSelectionMethod.RandomInconsistent => $"random-inconsistent(seed={Seed})",
        ElementSelectionMethod.L1 => "l1",
        _ => "magnitude",
    };

    static void CheckSizes(long teacherSize, long studentSize)
    {
        if (studentSize < 1 || teacherSize < studentSize)
            throw new ArgumentOutOfRangeException(nameof(studentSize),
                $"Element selection needs 1 <= student size <= teacher size; got teacher {teacherSize}, student {studentSize}.");
    }

    // FNV-1a: string.GetHashCode is randomized per process, which would break determinism.
    static uint StableHash(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text) hash = (hash ^ c) * 16777619;
        return hash;
    }
}

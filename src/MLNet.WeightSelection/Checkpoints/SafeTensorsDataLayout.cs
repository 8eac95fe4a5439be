namespace MLNet.WeightSelection.Checkpoints;

/// <summary>
/// The rule the format's reference reader (huggingface/safetensors) enforces on data offsets: taken in offset order,
/// the tensors tile the data section exactly. The first starts at 0, each starts where the one before it ends, and
/// the last ends at the end of the file. A gap, an overlap or trailing bytes would be data no tensor owns (or two
/// own), which the reference reader refuses and so does this one.
/// </summary>
internal static class SafeTensorsDataLayout
{
    /// <summary>Checks that <paramref name="entries"/> tile a data section of <paramref name="dataLength"/> bytes.</summary>
    /// <exception cref="InvalidDataException">They do not; the message names the file, the tensor and the offset expected.</exception>
    public static void CheckTiling(SafeTensorsEntry[] entries, long dataLength, string file)
    {
        var order = InOffsetOrder(entries);
        long expected = 0;
        int previous = -1;
        foreach (int i in order)
        {
            var entry = entries[i];
            if (entry.Begin != expected)
                throw previous < 0 ? NotAtStart(entry, file)
                    : entry.Begin < expected ? Overlap(entries[previous], entry, file)
                    : Gap(entries[previous], entry, file);
            expected = entry.End;
            previous = i;
        }
        if (expected != dataLength)
            throw previous < 0
                ? SafeTensorsHeader.Invalid(file, $"the header lists no tensors, but the data section holds {dataLength} bytes; every byte after the header must belong to a tensor")
                : SafeTensorsHeader.Invalid(file, $"the data section holds {dataLength} bytes, but its last tensor '{entries[previous].Name}' {Range(entries[previous])} ends at {expected}: the {dataLength - expected} bytes after it belong to no tensor");
    }

    // Indices sorted by (begin, end), as the reference reader sorts: an empty tensor sorts before a full one at the
    // same offset. Already sorted, as files written in header order are, costs one pass.
    static int[] InOffsetOrder(SafeTensorsEntry[] entries)
    {
        var order = new int[entries.Length];
        bool sorted = true;
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
            if (i > 0 && Compare(entries[i - 1], entries[i]) > 0) sorted = false;
        }
        if (!sorted)
            Array.Sort(order, (a, b) =>
            {
                int byOffsets = Compare(entries[a], entries[b]);
                return byOffsets != 0 ? byOffsets : a.CompareTo(b); // Array.Sort is unstable; keep header order on ties
            });
        return order;
    }

    static int Compare(in SafeTensorsEntry a, in SafeTensorsEntry b) =>
        a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End);

    static InvalidDataException NotAtStart(SafeTensorsEntry first, string file) => SafeTensorsHeader.Invalid(file,
        $"tensor '{first.Name}' {Range(first)} comes first in the data section but starts at {first.Begin}, not 0: the {first.Begin} bytes before it belong to no tensor");

    static InvalidDataException Overlap(SafeTensorsEntry previous, SafeTensorsEntry entry, string file) => SafeTensorsHeader.Invalid(file,
        $"tensors '{previous.Name}' {Range(previous)} and '{entry.Name}' {Range(entry)} overlap; '{entry.Name}' must start at {previous.End}, where '{previous.Name}' ends");

    static InvalidDataException Gap(SafeTensorsEntry previous, SafeTensorsEntry entry, string file) => SafeTensorsHeader.Invalid(file,
        $"tensor '{entry.Name}' {Range(entry)} must start at {previous.End}, where '{previous.Name}' {Range(previous)} ends: the {entry.Begin - previous.End} bytes between them belong to no tensor");

    static string Range(SafeTensorsEntry entry) => $"[{entry.Begin}, {entry.End}]";
}

using System.Text;

namespace MLNet.WeightSelection.Models;

/// <summary>
/// A checkpoint does not fit a model: every missing key, unexpected key and shape mismatch is listed at once
/// (PyTorch's <c>load_state_dict</c> error, in full). Nothing has been copied when this is thrown.
/// </summary>
public sealed class StateDictLoadException : InvalidOperationException
{
    /// <summary>Creates the exception and its message.</summary>
    public StateDictLoadException(string origin, string model, IReadOnlyList<string> missingKeys,
        IReadOnlyList<string> unexpectedKeys, IReadOnlyList<string> shapeMismatches)
        : base(Describe(origin, model, missingKeys, unexpectedKeys, shapeMismatches))
    {
        Origin = origin;
        MissingKeys = missingKeys;
        UnexpectedKeys = unexpectedKeys;
        ShapeMismatches = shapeMismatches;
    }

    /// <summary>Where the checkpoint came from (a file path or description).</summary>
    public string Origin { get; }

    /// <summary>Model keys the checkpoint lacks.</summary>
    public IReadOnlyList<string> MissingKeys { get; }

    /// <summary>Checkpoint keys the model lacks (as named in the checkpoint).</summary>
    public IReadOnlyList<string> UnexpectedKeys { get; }

    /// <summary>One line per key whose shapes differ: "key: checkpoint [..] vs model [..]".</summary>
    public IReadOnlyList<string> ShapeMismatches { get; }

    static string Describe(string origin, string model, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> shapes)
    {
        var text = new StringBuilder($"Cannot load '{origin}' into {model}:");
        Append(text, missing, "missing key");
        Append(text, unexpected, "unexpected key");
        Append(text, shapes, "shape mismatch", "shape mismatches");
        return text.ToString();
    }

    static void Append(StringBuilder text, IReadOnlyList<string> items, string singular, string? plural = null)
    {
        if (items.Count == 0) return;
        text.Append($"\n  {items.Count} {(items.Count == 1 ? singular : plural ?? singular + "s")}: ");
        text.AppendJoin(", ", items);
    }
}

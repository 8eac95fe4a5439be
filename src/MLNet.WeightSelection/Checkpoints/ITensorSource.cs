using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Checkpoints;

/// <summary>Name, element type and shape of one stored tensor, known without reading its data.</summary>
/// <param name="Name">The key, in timm's naming (<c>blocks.3.attn.qkv.weight</c>).</param>
/// <param name="DType">The stored element type.</param>
/// <param name="Shape">The stored shape; empty for a scalar.</param>
public sealed record TensorInfo(string Name, ScalarType DType, long[] Shape)
{
    /// <summary>Number of elements (1 for a scalar).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// A read-only set of named tensors: a checkpoint on disk (read lazily) or a state dict in memory. Weight
/// selection reads the teacher through this, so a memory-mapped file only pays for the slices it selects.
/// </summary>
public interface ITensorSource : IDisposable
{
    /// <summary>Where the tensors come from (a file path, or a description), for error messages.</summary>
    string Origin { get; }

    /// <summary>All keys, in stored order.</summary>
    IReadOnlyList<string> Keys { get; }

    /// <summary>True when <paramref name="key"/> is present.</summary>
    bool Contains(string key);

    /// <summary>Dtype and shape of <paramref name="key"/>; throws <see cref="KeyNotFoundException"/> naming the key and origin.</summary>
    TensorInfo GetInfo(string key);

    /// <summary>
    /// Reads the whole tensor as a new CPU tensor owned by the caller. Floating tensors convert to
    /// <paramref name="dtype"/> when given; integer and bool tensors keep their type.
    /// </summary>
    Tensor Read(string key, ScalarType? dtype = null);

    /// <summary>
    /// Reads only the selected elements: <paramref name="indices"/> holds, per axis, the indices to keep in
    /// order (null keeps the whole axis). The result has shape [indices[0].Length, ...]. Implementations backed by
    /// a file read no more than the rows they need.
    /// </summary>
    Tensor ReadSelected(string key, IReadOnlyList<long[]?> indices, ScalarType? dtype = null);
}

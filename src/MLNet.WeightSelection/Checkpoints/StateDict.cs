using System.Collections;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Checkpoints;

/// <summary>
/// An ordered, in-memory state dict (key → CPU tensor), like PyTorch's <c>OrderedDict</c>. It owns its tensors and
/// disposes them with itself.
/// </summary>
public sealed class StateDict : ITensorSource, IEnumerable<KeyValuePair<string, Tensor>>
{
    readonly List<string> _keys = new();
    readonly Dictionary<string, Tensor> _tensors = new(StringComparer.Ordinal);

    /// <summary>Creates an empty state dict.</summary>
    /// <param name="origin">Where the tensors come from, for error messages.</param>
    public StateDict(string origin = "state dict") => Origin = origin;

    /// <inheritdoc />
    public string Origin { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> Keys => _keys;

    /// <summary>Number of tensors.</summary>
    public int Count => _keys.Count;

    /// <summary>The tensor stored under <paramref name="key"/> (owned by this state dict).</summary>
    public Tensor this[string key]
    {
        get => _tensors.TryGetValue(key, out var t) ? t
            : throw new KeyNotFoundException($"{Origin}: no tensor named '{key}'.");
        set
        {
            if (_tensors.TryGetValue(key, out var old)) { if (!ReferenceEquals(old, value)) old.Dispose(); }
            else _keys.Add(key);
            _tensors[key] = value;
        }
    }

    /// <summary>Adds or replaces <paramref name="key"/>; the state dict takes ownership of <paramref name="tensor"/>.</summary>
    public void Add(string key, Tensor tensor) => this[key] = tensor;

    /// <summary>Removes and disposes <paramref name="key"/>; false when absent.</summary>
    public bool Remove(string key)
    {
        if (!_tensors.Remove(key, out var t)) return false;
        _keys.Remove(key);
        t.Dispose();
        return true;
    }

    /// <inheritdoc />
    public bool Contains(string key) => _tensors.ContainsKey(key);

    /// <summary>The tensor under <paramref name="key"/>, or false.</summary>
    public bool TryGetValue(string key, out Tensor tensor) => _tensors.TryGetValue(key, out tensor!);

    /// <inheritdoc />
    public TensorInfo GetInfo(string key)
    {
        var t = this[key];
        return new TensorInfo(key, t.dtype, t.shape);
    }

    /// <inheritdoc />
    public Tensor Read(string key, ScalarType? dtype = null)
    {
        var t = this[key];
        return dtype is { } d && t.is_floating_point() && t.dtype != d ? t.to_type(d) : t.clone();
    }

    /// <inheritdoc />
    public Tensor ReadSelected(string key, IReadOnlyList<long[]?> indices, ScalarType? dtype = null)
    {
        var source = this[key];
        IndexSelection.Validate(Origin, key, source.shape, indices);
        using var scope = NewDisposeScope();
        Tensor result = source;
        for (int axis = 0; axis < indices.Count; axis++)
        {
            if (indices[axis] is not { } idx) continue;
            using var index = tensor(idx, ScalarType.Int64);
            result = result.index_select(axis, index);
        }
        result = ReferenceEquals(result, source) ? source.clone() : result;
        if (dtype is { } d && result.is_floating_point() && result.dtype != d) result = result.to_type(d);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Copies the parameters and buffers of <paramref name="module"/> (detached, on CPU) into a new state dict.</summary>
    public static StateDict FromModule(nn.Module module, string? origin = null)
    {
        var dict = new StateDict(origin ?? module.GetName());
        using (no_grad())
        {
            foreach (var (name, tensor) in module.state_dict())
                dict.Add(name, tensor.detach().cpu().clone());
        }
        return dict;
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator()
    {
        foreach (var k in _keys) yield return new(k, _tensors[k]);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
        _keys.Clear();
    }
}

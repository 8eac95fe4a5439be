using MLNet.WeightSelection.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// The moving average of one model's state (parameters and buffers, under the model's state-dict keys), kept on the
/// model's device. Floating-point entries are interpolated towards the model's; integer entries (BatchNorm's
/// <c>num_batches_tracked</c>) are copied, since an average of counts means nothing.
/// </summary>
internal sealed class ModelEma : IDisposable
{
    readonly EmaOptions _options;
    readonly Dictionary<string, Tensor> _state = new(StringComparer.Ordinal);

    /// <summary>Starts the average as a copy of <paramref name="model"/>'s current state.</summary>
    public ModelEma(nn.Module model, EmaOptions options)
    {
        _options = options;
        using var _ = no_grad();
        foreach (var (key, value) in model.state_dict())
        {
            using var detached = value.detach();
            _state[key] = detached.clone().DetachFromDisposeScope();
        }
    }

    /// <summary>The averaged tensors by state-dict key (owned by this object).</summary>
    public IReadOnlyDictionary<string, Tensor> State => _state;

    /// <summary>Moves the average towards <paramref name="model"/> with the decay of optimizer step <paramref name="step"/> (1-based).</summary>
    public void Update(nn.Module model, long step)
    {
        double weight = 1.0 - _options.DecayAt(step);
        using var _ = no_grad();
        foreach (var (key, live) in model.state_dict())
        {
            var average = Entry(key);
            if (average.is_floating_point()) average.lerp_(live, weight);
            else average.copy_(live);
        }
    }

    /// <summary>Exchanges the model's state with the average; calling it again restores both.</summary>
    public void SwapWith(nn.Module model)
    {
        using var _ = no_grad();
        foreach (var (key, live) in model.state_dict())
        {
            var average = Entry(key);
            using var held = live.clone();
            live.copy_(average);
            average.copy_(held);
        }
    }

    /// <summary>Overwrites the model's state with the average.</summary>
    public void CopyTo(nn.Module model)
    {
        using var _ = no_grad();
        foreach (var (key, live) in model.state_dict()) live.copy_(Entry(key));
    }

    /// <summary>A copy of the average, for keeping the best epoch's weights.</summary>
    public StateDict Snapshot(string origin)
    {
        var copy = new StateDict(origin);
        foreach (var (key, value) in _state) copy.Add(key, value.clone().DetachFromDisposeScope());
        return copy;
    }

    /// <summary>
    /// Overwrites the average with <paramref name="source"/> (a checkpoint's), after checking that it has exactly this
    /// average's keys, dtypes and shapes; <paramref name="origin"/> names the file in the error.
    /// </summary>
    public void Load(IReadOnlyDictionary<string, Tensor> source, string origin)
    {
        foreach (var (key, target) in _state)
        {
            if (!source.TryGetValue(key, out var value))
                throw new InvalidDataException($"{origin}: the EMA state lacks '{key}'.");
            if (value.dtype != target.dtype || !value.shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"{origin}: the EMA's '{key}' is {value.dtype} [{string.Join(", ", value.shape)}] but the model has {target.dtype} [{string.Join(", ", target.shape)}].");
        }
        foreach (var key in source.Keys)
            if (!_state.ContainsKey(key)) throw new InvalidDataException($"{origin}: the EMA state has '{key}', which the model lacks.");
        using var _ = no_grad();
        foreach (var (key, target) in _state) target.copy_(source[key]);
    }

    Tensor Entry(string key) => _state.TryGetValue(key, out var t) ? t
        : throw new InvalidOperationException($"The model has '{key}', which its moving average was not started with.");

    public void Dispose()
    {
        foreach (var t in _state.Values) t.Dispose();
        _state.Clear();
    }
}

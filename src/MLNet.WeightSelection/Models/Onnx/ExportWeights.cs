using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.Onnx;

/// <summary>A model's state dict by timm key, read-only, with errors that name the missing key.</summary>
internal sealed class ExportWeights
{
    readonly Dictionary<string, Tensor> _tensors;
    readonly string _model;

    public ExportWeights(nn.Module module, string model)
    {
        _model = model;
        _tensors = new Dictionary<string, Tensor>(module.state_dict(), StringComparer.Ordinal);
    }

    /// <summary>The tensor under <paramref name="key"/>, detached (not owned: do not dispose).</summary>
    public Tensor this[string key] => _tensors.TryGetValue(key, out var t) ? t.detach()
        : throw new KeyNotFoundException($"{_model}: the state dict has no '{key}', which the ONNX export needs.");

    /// <summary>True when <paramref name="key"/> is present.</summary>
    public bool Contains(string key) => _tensors.ContainsKey(key);

    /// <summary>The tensor under <paramref name="key"/>, or null.</summary>
    public Tensor? Optional(string key) => _tensors.TryGetValue(key, out var t) ? t.detach() : null;
}

using TorchSharp.Modules;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// Splits parameters into the groups AdamW decays and does not decay, like timm's
/// <c>param_groups_weight_decay</c>: no decay on anything with at most one axis (norm weights and biases, biases,
/// layer-scale gammas) nor on the names the model exempts (<see cref="Models.ImageClassifier.NoWeightDecay"/>, timm's
/// <c>no_weight_decay()</c>: a ViT's position embeddings and class, distillation or register tokens).
/// </summary>
internal static class WeightDecayGroups
{
    /// <summary>True when <paramref name="name"/> with <paramref name="dimensions"/> axes must not be decayed.</summary>
    public static bool IsExempt(string name, long dimensions, IReadOnlyCollection<string> noWeightDecay)
    {
        if (dimensions <= 1) return true;
        int dot = name.LastIndexOf('.');
        return noWeightDecay.Contains(dot < 0 ? name : name[(dot + 1)..]);
    }

    /// <summary>Trainable parameters split into (decay, noDecay), each in module order with its name.</summary>
    public static (List<(string Name, Parameter Parameter)> Decay, List<(string Name, Parameter Parameter)> NoDecay) Split(
        IEnumerable<(string name, Parameter parameter)> parameters, IReadOnlyCollection<string>? noWeightDecay = null)
    {
        var decay = new List<(string, Parameter)>();
        var noDecay = new List<(string, Parameter)>();
        foreach (var (name, p) in parameters)
        {
            if (!p.requires_grad) continue;
            (IsExempt(name, p.dim(), noWeightDecay ?? Array.Empty<string>()) ? noDecay : decay).Add((name, p));
        }
        return (decay, noDecay);
    }
}

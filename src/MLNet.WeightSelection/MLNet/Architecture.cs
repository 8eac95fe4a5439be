using MLNet.WeightSelection.Models;

namespace MLNet.WeightSelection;

/// <summary>
/// A model architecture named the way users have it at hand: a preset name (<c>"vit_tiny_patch16_224"</c>), inline JSON
/// (<c>{"family": "resnet", "layers": [1, 1, 1, 1], ...}</c>), the path of a .json spec, or a <see cref="ModelSpec"/>.
/// Strings and specs convert implicitly, so <c>Student = "resnet18"</c> and <c>Student = new ResNetSpec { ... }</c> both work.
/// </summary>
public sealed class Architecture
{
    readonly string? _text;
    readonly ModelSpec? _spec;

    Architecture(string? text, ModelSpec? spec)
    {
        _text = text;
        _spec = spec;
    }

    /// <summary>From a preset name, inline JSON or a .json path.</summary>
    public static Architecture FromName(string nameOrJson)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrJson);
        return new Architecture(nameOrJson, null);
    }

    /// <summary>From a spec.</summary>
    public static Architecture FromSpec(ModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new Architecture(null, spec);
    }

    /// <summary>A preset name, inline JSON or .json path.</summary>
    public static implicit operator Architecture(string nameOrJson) => FromName(nameOrJson);

    /// <summary>A spec.</summary>
    public static implicit operator Architecture(ModelSpec spec) => FromSpec(spec);

    /// <summary>The spec (presets and JSON resolved through <see cref="ModelRegistry.ResolveSpec"/>).</summary>
    /// <exception cref="KeyNotFoundException">An unknown preset; the message lists close names.</exception>
    public ModelSpec Resolve() => _spec ?? ModelRegistry.ResolveSpec(_text!);

    /// <inheritdoc />
    public override string ToString() => _text ?? _spec!.Family;
}

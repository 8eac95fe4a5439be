using MLNet.WeightSelection.Models.Json;
using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Models;

/// <summary>
/// A model family as the library knows it, in one registration object (timm's model file: config, presets, filter
/// and registration side by side): its name in specs, how its spec reads timm's keyword arguments, its presets and its
/// selection schema. Its spec type carries the rest (the model, the checkpoint filter, the image-size multiple).
/// Register a family of your own with <see cref="ModelFamilies.Register"/>.
/// </summary>
public abstract class ModelFamily
{
    /// <summary>The family's name in specs (<c>{"family": "vit", ...}</c>) and in selection schemas.</summary>
    public abstract string Name { get; }

    /// <summary>Reads the family's spec from timm's keyword arguments (<c>num_classes</c>, <c>in_chans</c> and <c>pretrained_cfg</c> are read for every family).</summary>
    public abstract ModelSpec ReadSpec(KwargsReader kwargs);

    /// <summary>Named configurations, by timm's model names.</summary>
    public abstract IReadOnlyDictionary<string, ModelSpec> Presets { get; }

    /// <summary>The widths and component map weight selection uses for this family's keys.</summary>
    public abstract SelectionSchema Schema { get; }

    /// <inheritdoc />
    public override string ToString() => Name;
}

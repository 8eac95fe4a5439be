using MLNet.WeightSelection.Models.Json;
using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Models.ResNet;

/// <summary>The ResNet family's registration: its name, spec reader, presets and selection schema.</summary>
internal sealed class ResNetFamily : ModelFamily
{
    public static ResNetFamily Instance { get; } = new();

    /// <inheritdoc />
    public override string Name => ResNetSpec.FamilyName;

    /// <inheritdoc />
    public override ModelSpec ReadSpec(KwargsReader kwargs) => ResNetSpec.FromKwargs(kwargs);

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, ModelSpec> Presets { get; } = ResNetPresets.All.ToDictionary(p => p.Key, p => (ModelSpec)p.Value, StringComparer.Ordinal);

    /// <inheritdoc />
    public override SelectionSchema Schema => ResNetSelectionSchema.Schema;
}

namespace MLNet.WeightSelection.Training;

/// <summary>One setting of a fitted recipe: its value, whether the user set it, and why it has that value.</summary>
/// <param name="Name">The option's name, as on <see cref="RecipeSettings"/>.</param>
/// <param name="Value">The value used, as text.</param>
/// <param name="WasSet">True when the user set it; false when it was fitted to the data.</param>
/// <param name="Reason">The rule that gave a fitted value (empty when set).</param>
public sealed record RecipeChoice(string Name, string Value, bool WasSet, string Reason)
{
    /// <inheritdoc />
    public override string ToString() => WasSet ? $"{Name} {Value} (set)" : $"{Name} {Value}";
}

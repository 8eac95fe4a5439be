using MLNet.WeightSelection;
using MLNet.WeightSelection.Training;

namespace ImageClassification;

/// <summary>What the library's fitted recipe chose for one run, and what came of its choices.</summary>
/// <param name="ImageSize">Side of the square images the student saw.</param>
/// <param name="Summary">The recipe in one line (<see cref="FittedRecipe.Summary"/>).</param>
/// <param name="Choices">Every setting with its value, whether it was set, and the rule that fitted it.</param>
/// <param name="AdaptationEpochs">Epochs of the teacher's adaptation, or null when the teacher was used as given.</param>
/// <param name="AdaptationTime">Wall time of the teacher's adaptation, or null when it was off.</param>
/// <param name="Distillation">The distillation used ("off" when none).</param>
/// <param name="EmaOn">True when an EMA of the weights was kept beside the live weights.</param>
/// <param name="KeptEma">True when the final model holds the EMA weights because they scored better on validation.</param>
public sealed record RunRecipe(int ImageSize, string Summary, IReadOnlyList<RecipeChoice> Choices, int? AdaptationEpochs,
    TimeSpan? AdaptationTime, string Distillation, bool EmaOn, bool KeptEma)
{
    /// <summary>The recipe of a fitted student.</summary>
    public static RunRecipe Of(WeightSelectionTransformer student)
    {
        ArgumentNullException.ThrowIfNull(student);
        var recipe = student.Recipe;
        var adaptation = student.TeacherAdaptation;
        return new RunRecipe(recipe.Data.ImageSize, recipe.Summary, recipe.Choices,
            adaptation?.History.Count,
            adaptation is { History.Count: > 0 } ? adaptation.History[^1].Elapsed : null,
            recipe.Student.Distillation?.ToString() ?? "off",
            recipe.Student.Ema is not null,
            student.Training.KeptEma);
    }

    /// <summary>The teacher adaptation in a table cell: "2 epochs, 0:41", or "off".</summary>
    public string AdaptationText => AdaptationEpochs is { } epochs
        ? FormattableString.Invariant($"{epochs} epoch{(epochs == 1 ? "" : "s")}, {AdaptationTime ?? TimeSpan.Zero:m\\:ss}")
        : "off";

    /// <summary>The weights the model keeps in a table cell: "EMA", "live", or "live (EMA off)".</summary>
    public string WeightsKeptText => !EmaOn ? "live (EMA off)" : KeptEma ? "EMA" : "live";
}

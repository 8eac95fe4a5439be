namespace MLNet.WeightSelection.Training;

/// <summary>The recipe <see cref="TrainingRecipe.Fit"/> resolved: the student's training options, the teacher's adaptation, and every choice with its source.</summary>
public sealed class FittedRecipe
{
    internal FittedRecipe(DataProfile data, TrainingOptions student, TrainingOptions? teacherAdaptation, IReadOnlyList<RecipeChoice> choices)
    {
        Data = data;
        Student = student;
        TeacherAdaptation = teacherAdaptation;
        Choices = choices;
    }

    /// <summary>The data the recipe was fitted to.</summary>
    public DataProfile Data { get; }

    /// <summary>The student's training options.</summary>
    public TrainingOptions Student { get; }

    /// <summary>The teacher's adaptation run, or null when the teacher is used as given.</summary>
    public TrainingOptions? TeacherAdaptation { get; }

    /// <summary>Every setting, in a fixed order, with its value and source.</summary>
    public IReadOnlyList<RecipeChoice> Choices { get; }

    /// <summary>The recipe in one line, for the log: fitted values plain, values the user set marked "(set)".</summary>
    public string Summary => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"Recipe for {Data.TrainingImages:N0} training images of {Data.Classes} classes at {Data.ImageSize} px: ") +
        string.Join(", ", Choices.Select(c => c.ToString())) + ".";

    /// <inheritdoc />
    public override string ToString() => Summary;
}

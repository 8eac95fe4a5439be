namespace MLNet.WeightSelection;

/// <summary>How the student's weights start.</summary>
public enum Initialization
{
    /// <summary>Weight selection from the teacher (the paper's method): every tensor but the classifier comes from the teacher.</summary>
    WeightSelection,

    /// <summary>The student's own random initialization (timm's scheme): the paper's baseline, trained with the same recipe.</summary>
    Random,
}

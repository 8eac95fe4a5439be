using System.Globalization;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// Teacher adaptation: before the student is selected, a copy of the teacher is fine-tuned briefly on the training
/// data, at the student's image size, with its classifier reset to the label's classes. The student is then selected
/// from the adapted teacher and can distill from its logits. It costs one short training run of the (larger) teacher.
/// </summary>
public sealed class TeacherAdaptationOptions
{
    /// <summary>
    /// Passes over the training data. Default: null, fitted to the data: a sixth of the student's optimizer steps,
    /// rounded up to whole epochs (at least 1).
    /// </summary>
    public int? Epochs { get; set; }

    /// <summary>
    /// Peak learning rate of AdamW for the teacher, which starts from pretrained weights. Default: null, fitted to the
    /// data: half the student's peak learning rate.
    /// </summary>
    public double? LearningRate { get; set; }

    /// <summary>True only for <see cref="Off"/>.</summary>
    public bool IsOff { get; private init; }

    /// <summary>Teacher adaptation turned off explicitly: the student is selected from the teacher as given.</summary>
    public static TeacherAdaptationOptions Off { get; } = new() { IsOff = true };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first value out of range.</summary>
    public void Validate()
    {
        if (Epochs is { } e && e < 1) throw new ArgumentException($"TeacherAdaptation.Epochs must be at least 1 when set; got {e}.");
        if (LearningRate is { } lr && (!(lr > 0) || double.IsInfinity(lr)))
            throw new ArgumentException($"TeacherAdaptation.LearningRate must be finite and > 0 when set; got {lr}.");
    }

    /// <inheritdoc />
    public override string ToString() => IsOff ? "off" : string.Create(CultureInfo.InvariantCulture,
        $"epochs {(Epochs?.ToString(CultureInfo.InvariantCulture) ?? "fitted")}, lr {(LearningRate is { } lr ? lr.ToString("R", CultureInfo.InvariantCulture) : "fitted")}");
}

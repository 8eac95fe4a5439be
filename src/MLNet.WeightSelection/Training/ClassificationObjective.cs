using static TorchSharp.torch;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// Cross-entropy with the labels: label-smoothed against the class index, or against the mixed distribution when
/// mixup or cutmix mixed the batch (timm's <c>SoftTargetCrossEntropy</c>). Every run has it.
/// </summary>
internal sealed class ClassificationObjective(double labelSmoothing) : TrainingObjective
{
    /// <inheritdoc />
    public override string Name => "cross-entropy";

    /// <inheritdoc />
    public override Tensor Loss(ObjectiveInputs inputs) => inputs.SoftTargets is { } soft
        ? Losses.SoftTargetCrossEntropy(inputs.Logits, soft)
        : Losses.LabelSmoothingCrossEntropy(inputs.Logits, inputs.Labels, labelSmoothing);
}

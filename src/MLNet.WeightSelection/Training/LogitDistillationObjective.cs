using static TorchSharp.torch;

namespace MLNet.WeightSelection.Training;

/// <summary>α · T² · KL(teacher ‖ student) over temperature-softened class distributions (Hinton et al.).</summary>
internal sealed class LogitDistillationObjective(LogitDistillation options) : TrainingObjective
{
    /// <inheritdoc />
    public override string Name => options.ToString();

    /// <inheritdoc />
    public override Tensor Loss(ObjectiveInputs inputs)
    {
        var teacherLogits = inputs.FromTeacher((teacher, input) => teacher.forward(input));
        return Losses.LogitDistillation(inputs.Logits, teacherLogits, options.Temperature).mul(options.Alpha);
    }
}

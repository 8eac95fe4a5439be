using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// α · L1 between the teacher's pooled features and the student's, mapped to the teacher's width by a small MLP
/// (<see cref="FeatureProjection"/>) that trains with the student and is saved in its checkpoints.
/// </summary>
internal sealed class FeatureDistillationObjective : TrainingObjective
{
    readonly FeatureDistillation _options;
    readonly FeatureProjection _projection;

    public FeatureDistillationObjective(FeatureDistillation options, int studentFeatures, int teacherFeatures, Device device, long seed)
    {
        _options = options;
        // The projection's initial weights depend on the seed only, like everything else in the run.
        manual_seed(seed);
        _projection = new FeatureProjection(studentFeatures, teacherFeatures);
        _projection.to(device);
    }

    /// <inheritdoc />
    public override string Name => _options.ToString();

    /// <inheritdoc />
    public override bool NeedsPreLogits => true;

    /// <inheritdoc />
    public override nn.Module Trainable => _projection;

    /// <inheritdoc />
    public override Tensor Loss(ObjectiveInputs inputs)
    {
        var teacherFeatures = inputs.FromTeacher((teacher, input) => teacher.ForwardPreLogits(input));
        return Losses.FeatureDistillation(_projection.forward(inputs.PreLogits!), teacherFeatures).mul(_options.Alpha);
    }
}

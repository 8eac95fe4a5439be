using MLNet.WeightSelection.Models;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// One term of the loss a training step minimizes: the classification loss, or a distillation term. The training
/// loop adds up every objective of the run; a new loss is one subclass here and one option that creates it (as
/// <see cref="DistillationOptions"/> create theirs).
/// </summary>
internal abstract class TrainingObjective : IDisposable
{
    /// <summary>How the run's log and fingerprint name the term.</summary>
    public abstract string Name { get; }

    /// <summary>True when <see cref="Loss"/> reads the student's pooled features (<see cref="ObjectiveInputs.PreLogits"/>).</summary>
    public virtual bool NeedsPreLogits => false;

    /// <summary>
    /// Trainable weights of the objective itself (a projection, say), optimized with the student and saved in
    /// training checkpoints; null for none.
    /// </summary>
    public virtual nn.Module? Trainable => null;

    /// <summary>The term for one batch, already weighted, as a scalar tensor.</summary>
    public abstract Tensor Loss(ObjectiveInputs inputs);

    /// <inheritdoc />
    public virtual void Dispose() => Trainable?.Dispose();
}

/// <summary>What one training step gives its objectives.</summary>
/// <param name="Logits">The student's logits for the augmented batch.</param>
/// <param name="PreLogits">The student's pooled features, when an objective needs them.</param>
/// <param name="Labels">The batch's class indices.</param>
/// <param name="SoftTargets">Mixed label distributions when mixup or cutmix mixed the batch; null otherwise.</param>
/// <param name="TeacherInput">The batch normalized for the teacher; null without a teacher.</param>
/// <param name="RunTeacher">Runs a teacher forward (eval mode, no gradients, on the student's device); null without a teacher.</param>
internal sealed record ObjectiveInputs(Tensor Logits, Tensor? PreLogits, Tensor Labels, Tensor? SoftTargets,
    Tensor? TeacherInput, Func<Func<ImageClassifier, Tensor>, Tensor>? RunTeacher)
{
    /// <summary>The teacher's output for the batch: <paramref name="forward"/> of the teacher and its input.</summary>
    public Tensor FromTeacher(Func<ImageClassifier, Tensor, Tensor> forward)
    {
        if (RunTeacher is null || TeacherInput is null) throw new InvalidOperationException("This objective needs a teacher, and the run has none.");
        var input = TeacherInput;
        return RunTeacher(teacher => forward(teacher, input));
    }
}

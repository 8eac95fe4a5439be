using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Tests.MLNet;
using MLNet.WeightSelection.Tests.Models;
using MLNet.WeightSelection.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Training;

/// <summary>The loss terms a training step adds up, each on known tensors.</summary>
[Collection(nameof(GlobalTorchState))]
public class TrainingObjectiveTests
{
    static readonly Tensor Logits = tensor(new float[] { 2f, 0f, -1f, 0.5f, 0.5f, 1f }).reshape(2, 3);
    static readonly Tensor Labels = tensor(new long[] { 0, 2 });

    [Fact]
    public void Classification_is_label_smoothed_cross_entropy_or_soft_target_cross_entropy_when_mixed()
    {
        var objective = new ClassificationObjective(labelSmoothing: 0.1);
        var logp = Logits.log_softmax(-1);
        // Smoothed targets: 0.9 + 0.1/3 on the label, 0.1/3 elsewhere.
        double expected = 0;
        long[] labels = { 0, 2 };
        for (int row = 0; row < 2; row++)
            for (int c = 0; c < 3; c++)
                expected -= (c == labels[row] ? 0.9 + 0.1 / 3 : 0.1 / 3) * logp[row, c].item<float>() / 2;
        Assert.Equal(expected, objective.Loss(Inputs()).item<float>(), 5);

        var soft = tensor(new float[] { 0.5f, 0.5f, 0f, 0f, 0.25f, 0.75f }).reshape(2, 3);
        double mixed = -(0.5 * logp[0, 0].item<float>() + 0.5 * logp[0, 1].item<float>() + 0.25 * logp[1, 1].item<float>() + 0.75 * logp[1, 2].item<float>()) / 2;
        Assert.Equal(mixed, objective.Loss(Inputs() with { SoftTargets = soft }).item<float>(), 5);
        Assert.Equal("cross-entropy", objective.Name);
    }

    [Fact]
    public void Logit_distillation_is_alpha_t_squared_kl_from_the_teacher_and_zero_for_the_same_logits()
    {
        using var teacher = TinyModels.Teacher(classes: 3).CreateModel();
        teacher.eval();
        using var input = rand(2, 3, 16, 16);
        Tensor teacherLogits;
        using (no_grad()) teacherLogits = teacher.forward(input);
        using var objective = DistillationOptions.Logits(alpha: 0.5f, temperature: 2f).CreateObjective(teacher, teacher, CPU, 1)!;

        var withTeacher = Inputs() with { TeacherInput = input, RunTeacher = forward => { using (no_grad()) return forward(teacher); } };
        var ps = Logits.div(2).log_softmax(-1);
        var pt = teacherLogits.div(2).log_softmax(-1);
        double kl = pt.exp().mul(pt.sub(ps)).sum().item<float>() / 2;
        Assert.Equal(0.5 * 4 * kl, objective.Loss(withTeacher).item<float>(), 5);
        Assert.Equal(0, objective.Loss(withTeacher with { Logits = teacherLogits }).item<float>(), 6);

        var e = Assert.Throws<InvalidOperationException>(() => objective.Loss(Inputs()));
        Assert.Contains("needs a teacher", e.Message);
    }

    [Fact]
    public void Feature_distillation_trains_a_projection_and_reads_the_pooled_features()
    {
        using var student = TinyModels.Student().CreateModel();
        using var teacher = TinyModels.Teacher(classes: 3).CreateModel();
        teacher.eval();
        var options = new FeatureDistillation(alpha: 2f);
        using var objective = new FeatureDistillationObjective(options, student.NumFeatures, teacher.NumFeatures, CPU, seed: 4);
        Assert.True(objective.NeedsPreLogits);
        Assert.NotNull(objective.Trainable);
        Assert.NotEmpty(objective.Trainable!.parameters());

        using var input = rand(2, 3, 16, 16);
        var preLogits = student.ForwardPreLogits(input);
        Tensor teacherFeatures;
        using (no_grad()) teacherFeatures = teacher.ForwardPreLogits(input);
        var inputs = new ObjectiveInputs(student.forward(input), preLogits, Labels, null, input, forward => { using (no_grad()) return forward(teacher); });
        var loss = objective.Loss(inputs);
        var projected = ((nn.Module<Tensor, Tensor>)objective.Trainable).forward(preLogits);
        Assert.Equal(2 * projected.sub(teacherFeatures).abs().mean().item<float>(), loss.item<float>(), 5);

        // The projection's starting weights depend on the seed only.
        using var again = new FeatureDistillationObjective(options, student.NumFeatures, teacher.NumFeatures, CPU, seed: 4);
        foreach (var ((name, a), (_, b)) in objective.Trainable.named_parameters().Zip(again.Trainable!.named_parameters()))
            TensorAssert.Equal(a, b, name);
    }

    static ObjectiveInputs Inputs() => new(Logits, null, Labels, null, null, null);
}

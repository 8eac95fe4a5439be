using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.Training;

public class DistillationTests
{
    static double FirstEpochLoss(DistillationOptions? distillation, TinyClassifier? teacher)
    {
        using var train = TrainingData.Separable(32, size: 16, seed: 1);
        using var student = TinyClassifier.Create(4, seed: 3);
        var options = TrainingData.FastOptions(epochs: 1);
        options.Distillation = distillation;
        return new ImageClassifierTrainer(options).Train(student, train, null, teacher).History[0].TrainLoss;
    }

    [Fact]
    public void LogitDistillationNeedsTheStudentsClassesAndFailsBeforeTraining()
    {
        using var train = TrainingData.Separable(32, size: 16, seed: 1);
        using var student = TinyClassifier.Create(4, seed: 3);
        using var teacher = TinyClassifier.Create(10, seed: 4, width: 12);
        var before = TrainingData.Snapshot(student);
        var options = TrainingData.FastOptions(epochs: 1);
        options.Distillation = DistillationOptions.Logits(alpha: 1, temperature: 2);
        var error = Assert.Throws<ArgumentException>(() => new ImageClassifierTrainer(options).Train(student, train, null, teacher));
        Assert.Contains("10", error.Message);
        Assert.Contains("4 classes", error.Message);
        Assert.Equal(0.0, TrainingData.MaxDifference(before, TrainingData.Snapshot(student)));

        Assert.Contains("needs a teacher", Assert.Throws<ArgumentException>(() => new ImageClassifierTrainer(options).Train(student, train, null)).Message);
    }

    [Fact]
    public void LogitDistillationChangesTheLossAndLeavesTheTeacherUntouched()
    {
        using var teacher = TinyClassifier.Create(4, seed: 8, width: 12);
        teacher.train(); // the trainer must switch it to eval itself
        var teacherBefore = TrainingData.Snapshot(teacher);

        double plain = FirstEpochLoss(null, null);
        double distilled = FirstEpochLoss(DistillationOptions.Logits(alpha: 1, temperature: 2), teacher);

        Assert.True(double.IsFinite(distilled));
        Assert.NotEqual(plain, distilled);
        // Eval mode: BatchNorm running statistics did not move; no_grad: no gradients were kept.
        Assert.Equal(0.0, TrainingData.MaxDifference(teacherBefore, TrainingData.Snapshot(teacher)));
        Assert.All(teacher.parameters(), p => Assert.True(p.grad is null));
        Assert.True(teacher.training);
    }

    [Fact]
    public void FeatureDistillationProjectsToTheTeacherWidthWithItsOwnInputConvention()
    {
        // Teacher: 24 pooled features (width 12), 7 classes, and another input convention than the student.
        using var teacher = TinyClassifier.Create(7, seed: 8, width: 12);
        teacher.Input = InputConvention.Inception;
        var teacherBefore = TrainingData.Snapshot(teacher);

        double plain = FirstEpochLoss(null, null);
        double distilled = FirstEpochLoss(DistillationOptions.Features(alpha: 1), teacher);
        double stronger = FirstEpochLoss(DistillationOptions.Features(alpha: 5), teacher);

        Assert.True(double.IsFinite(distilled));
        Assert.True(distilled > plain);
        Assert.True(stronger > distilled);
        Assert.Equal(0.0, TrainingData.MaxDifference(teacherBefore, TrainingData.Snapshot(teacher)));

        // The projection is discarded: the student keeps exactly its own parameters.
        using var train = TrainingData.Separable(32, size: 16, seed: 1);
        using var student = TinyClassifier.Create(4, seed: 3);
        var keys = student.state_dict().Keys.ToList();
        var options = TrainingData.FastOptions(epochs: 1);
        options.Distillation = DistillationOptions.Features();
        new ImageClassifierTrainer(options).Train(student, train, null, teacher);
        Assert.Equal(keys, student.state_dict().Keys);
    }

    [Fact]
    public void DistillationOptionsValidateTheirArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DistillationOptions.Logits(alpha: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => DistillationOptions.Logits(temperature: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => DistillationOptions.Features(alpha: float.NaN));
        Assert.Equal(2f, ((LogitDistillation)DistillationOptions.Logits(temperature: 2)).Temperature);
    }
}

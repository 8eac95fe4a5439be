using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.Vit;
using MLNet.WeightSelection.Tests.MLNet;
using MLNet.WeightSelection.Training;
using TorchSharp;
using Xunit;

namespace MLNet.WeightSelection.Tests.Training;

/// <summary>
/// <see cref="TeacherAdaptation.Adapt"/>: a copy of the teacher with the data's classes at the data's image size, every
/// other tensor taken from the teacher (a ViT's position embeddings resampled), the teacher itself untouched, resumable.
/// </summary>
[Collection(nameof(GlobalTorchState))]
public class TeacherAdaptationTests
{
    static VisionTransformerSpec VitTeacher() => new() { ImageSize = 16, PatchSize = 4, EmbedDim = 32, Depth = 2, NumHeads = 4, NumClasses = 10 };

    static ImageClassifier Create(ModelSpec spec, int seed)
    {
        torch.manual_seed(seed);
        return spec.CreateModel();
    }

    static TrainingOptions Run(int epochs = 1, double learningRate = 1e-2) => new()
    {
        Epochs = epochs, BatchSize = 8, LearningRate = learningRate, MinLearningRate = Math.Min(1e-6, learningRate), WarmupEpochs = 0,
        WeightDecay = 0, Augmentation = AugmentationOptions.None, Seed = 1, Threads = 1,
    };

    [Fact]
    public void A_vit_is_adapted_at_the_datas_size_and_classes_from_the_teachers_tensors_with_resampled_position_embeddings()
    {
        using var teacher = Create(VitTeacher(), seed: 5);
        using var weights = StateDict.FromModule(teacher);
        var before = TrainingData.Snapshot(teacher);
        using var train = TrainingData.Separable(16, size: 24, classes: 3, seed: 1);
        var lines = new List<string>();

        // A learning rate of 1e-12 leaves every weight where the adaptation started (to float precision).
        var (adapted, result) = TeacherAdaptation.Adapt(weights, teacher.Spec, teacher.Input, train, null, Run(learningRate: 1e-12), log: lines.Add);
        using (adapted)
        {
            Assert.Equal(3, adapted.NumClasses);
            Assert.Equal(24, adapted.Spec.ImageSize);
            Assert.Equal(teacher.Input, adapted.Input);
            Assert.Single(result.History);
            Assert.Contains(lines, l => l.StartsWith("Adapting the teacher (vit) to 3 classes at 24 px", StringComparison.Ordinal));

            var start = adapted.state_dict();
            var original = teacher.state_dict();
            Assert.Equal(original.Keys.OrderBy(k => k), start.Keys.OrderBy(k => k));
            foreach (var (key, tensor) in start)
            {
                if (adapted.ClassifierKeys.Contains(key))
                {
                    Assert.Equal(3, tensor.shape[0]);
                    continue;
                }
                var expected = key == "pos_embed" ? PositionEmbeddings.Resample(original[key], (6, 6), 1) : original[key];
                Assert.Equal(expected.shape, tensor.shape);
                Assert.True(tensor.allclose(expected, rtol: 0, atol: 1e-6), $"{key} does not start from the teacher's");
            }
            Assert.Equal(new long[] { 1, 1 + 36, 32 }, start["pos_embed"].shape);
            Assert.NotEqual(original["pos_embed"].shape, start["pos_embed"].shape);
        }
        Assert.Equal(0, TrainingData.MaxDifference(before, TrainingData.Snapshot(teacher)));
    }

    [Fact]
    public void Training_moves_the_copy_and_leaves_the_teacher_as_it_was()
    {
        using var teacher = Create(TinyModels.Teacher(10), seed: 7);
        using var weights = StateDict.FromModule(teacher);
        var before = TrainingData.Snapshot(teacher);
        using var train = TrainingData.Separable(24, size: 16, classes: 3, seed: 1);
        using var validation = TrainingData.Separable(12, size: 16, classes: 3, seed: 2);

        var (adapted, result) = TeacherAdaptation.Adapt(weights, teacher.Spec, teacher.Input, train, validation, Run(epochs: 2));
        using (adapted)
        {
            Assert.Equal(2, result.History.Count);
            Assert.All(result.History, m => Assert.InRange(m.ValidationAccuracy, 0.0, 1.0));
            Assert.Equal(3, adapted.NumClasses);
            var moved = adapted.state_dict()["conv1.weight"];
            Assert.False(moved.allclose(teacher.state_dict()["conv1.weight"], rtol: 0, atol: 1e-6), "the adaptation did not train");
        }
        Assert.Equal(0, TrainingData.MaxDifference(before, TrainingData.Snapshot(teacher)));
    }

    [Fact]
    public void A_finished_adaptation_in_the_checkpoint_folder_is_not_trained_again()
    {
        using var tmp = new TempFolder();
        using var teacher = Create(TinyModels.Teacher(10), seed: 7);
        using var weights = StateDict.FromModule(teacher);
        using var train = TrainingData.Separable(24, size: 16, classes: 3, seed: 1);
        var options = Run(epochs: 2);
        options.CheckpointDirectory = tmp.File("adaptation");

        var (first, firstResult) = TeacherAdaptation.Adapt(weights, teacher.Spec, teacher.Input, train, null, options);
        Dictionary<string, float[]> trained;
        using (first) trained = TrainingData.Snapshot(first);
        Assert.False(firstResult.Resumed);

        var epochs = new List<EpochMetrics>();
        var lines = new List<string>();
        var (second, secondResult) = TeacherAdaptation.Adapt(weights, teacher.Spec, teacher.Input, train, null, options, onEpoch: epochs.Add, log: lines.Add);
        using (second)
        {
            Assert.True(secondResult.Resumed);
            Assert.Empty(epochs);
            Assert.Equal(2, secondResult.History.Count);
            Assert.Contains(lines, l => l.StartsWith("Resuming from", StringComparison.Ordinal) && l.Contains("after epoch 2 of 2", StringComparison.Ordinal));
            Assert.Equal(0, TrainingData.MaxDifference(trained, TrainingData.Snapshot(second)));
        }
    }

    [Fact]
    public void Distillation_or_ema_in_the_adaptations_options_is_refused_before_any_work()
    {
        using var teacher = Create(TinyModels.Teacher(10), seed: 7);
        using var weights = StateDict.FromModule(teacher);
        using var train = TrainingData.Separable(8, size: 16, classes: 3, seed: 1);
        var epochs = new List<EpochMetrics>();

        var distilling = Run();
        distilling.Distillation = DistillationOptions.Logits();
        var e = Assert.Throws<ArgumentException>(() => TeacherAdaptation.Adapt(weights, teacher.Spec, teacher.Input, train, null, distilling, onEpoch: epochs.Add));
        Assert.Contains("take no Distillation and no Ema", e.Message);
        Assert.Equal("options", e.ParamName);

        var averaging = Run();
        averaging.Ema = new EmaOptions();
        e = Assert.Throws<ArgumentException>(() => TeacherAdaptation.Adapt(weights, teacher.Spec, teacher.Input, train, null, averaging, onEpoch: epochs.Add));
        Assert.Contains("take no Distillation and no Ema", e.Message);
        Assert.Empty(epochs);
    }
}

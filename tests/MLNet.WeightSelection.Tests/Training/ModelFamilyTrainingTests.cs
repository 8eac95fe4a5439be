using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.ConvNeXt;
using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Models.Vit;
using MLNet.WeightSelection.Training;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Training;

/// <summary>The trainer with the real model families (tiny configurations at 16 px).</summary>
public class ModelFamilyTrainingTests
{
    static ImageClassifier TinyVit(int classes, int embedDim = 32, double? initValues = 1e-5, double dropPath = 0, int seed = 1)
    {
        manual_seed(seed);
        return new VisionTransformerSpec
        {
            NumClasses = classes, ImageSize = 16, PatchSize = 4, EmbedDim = embedDim, Depth = 2, NumHeads = 2,
            InitValues = initValues, DropPathRate = dropPath,
        }.CreateModel();
    }

    static ImageClassifier TinyResNet(int classes, int seed = 1)
    {
        manual_seed(seed);
        return new ResNetSpec { NumClasses = classes, Layers = new[] { 1, 1 }, Channels = new[] { 8, 16 }, PlainStemWidth = 8 }.CreateModel();
    }

    static ImageClassifier TinyConvNeXt(int classes, double dropPath = 0, int seed = 1)
    {
        manual_seed(seed);
        return new ConvNeXtSpec { NumClasses = classes, Depths = new[] { 1, 1, 1, 1 }, Dims = new[] { 8, 16, 16, 16 }, DropPathRate = dropPath }.CreateModel();
    }

    [Fact]
    public void VitNoDecayGroupHoldsTokensPositionEmbeddingNormsBiasesAndLayerScale()
    {
        using var vit = TinyVit(4);
        var (decay, noDecay) = WeightDecayGroups.Split(vit.named_parameters(), vit.NoWeightDecay);
        var noDecayNames = noDecay.Select(p => p.Name).ToHashSet();
        var decayNames = decay.Select(p => p.Name).ToHashSet();

        Assert.Contains("pos_embed", noDecayNames);
        Assert.Contains("cls_token", noDecayNames);
        Assert.Contains("blocks.0.ls1.gamma", noDecayNames);
        Assert.Contains("blocks.1.norm2.weight", noDecayNames);
        Assert.Contains("blocks.0.attn.qkv.bias", noDecayNames);
        Assert.Contains("norm.bias", noDecayNames);
        Assert.Equal(
            new[] { "blocks.0.attn.proj.weight", "blocks.0.attn.qkv.weight", "blocks.0.mlp.fc1.weight", "blocks.0.mlp.fc2.weight",
                    "blocks.1.attn.proj.weight", "blocks.1.attn.qkv.weight", "blocks.1.mlp.fc1.weight", "blocks.1.mlp.fc2.weight",
                    "head.weight", "patch_embed.proj.weight" },
            decayNames.OrderBy(n => n, StringComparer.Ordinal));
        Assert.All(noDecay, p => Assert.True(p.Parameter.dim() <= 1 || p.Name is "pos_embed" or "cls_token", p.Name));
    }

    [Fact]
    public void ConvNeXtLayerScaleGammasAreNotDecayed()
    {
        using var model = TinyConvNeXt(4);
        var (decay, noDecay) = WeightDecayGroups.Split(model.named_parameters());
        Assert.Contains(noDecay, p => p.Name == "stages.0.blocks.0.gamma");
        Assert.All(decay, p => Assert.True(p.Parameter.dim() >= 2, p.Name));
        Assert.All(noDecay, p => Assert.True(p.Parameter.dim() <= 1, p.Name));
    }

    [Fact]
    public void TinyResNetLearnsTheSeparableTask()
    {
        using var train = TrainingData.Separable(128, size: 16, seed: 1);
        using var validation = TrainingData.Separable(64, size: 16, seed: 2);
        using var model = TinyResNet(4);
        var result = new ImageClassifierTrainer(TrainingData.FastOptions(epochs: 4)).Train(model, train, validation);
        Assert.True(result.History[^1].ValidationAccuracy > 0.9, $"validation accuracy {result.History[^1].ValidationAccuracy}");
    }

    [Fact]
    public void VitStudentDistillsFromAWiderVitWithAnotherInputConvention()
    {
        using var train = TrainingData.Separable(32, size: 16, seed: 1);
        using var teacher = TinyVit(4, embedDim: 48, seed: 2);     // Inception convention (the ViT default)
        using var student = TinyVit(4, embedDim: 16, dropPath: 0.1, seed: 3);
        student.Input = InputConvention.ImageNet;
        Assert.NotEqual(teacher.Input, student.Input);
        foreach (var distillation in new[] { DistillationOptions.Features(), DistillationOptions.Logits(temperature: 2) })
        {
            var options = TrainingData.FastOptions(epochs: 1);
            options.LearningRate = 1e-3;
            options.Distillation = distillation;
            var result = new ImageClassifierTrainer(options).Train(student, train, null, teacher);
            Assert.True(double.IsFinite(result.History[0].TrainLoss), distillation.ToString());
        }
    }

    [Fact]
    public void AStudentThatCannotTakeTheImageSizeFailsBeforeTraining()
    {
        using var small = TrainingData.Separable(16, size: 16, seed: 1);
        using var convnext = TinyConvNeXt(4);
        var tooSmall = Assert.Throws<ArgumentException>(() => new ImageClassifierTrainer(TrainingData.FastOptions(epochs: 1)).Train(convnext, small, null));
        Assert.StartsWith("The student (convnext) cannot take 16×16 images: ", tooSmall.Message);
        Assert.DoesNotContain("frame #", tooSmall.Message);

        using var train = TrainingData.Separable(16, size: 8, seed: 1);   // the ViT was built for 16 px
        using var vit = TinyVit(4);
        var error = Assert.Throws<ArgumentException>(() => new ImageClassifierTrainer(TrainingData.FastOptions(epochs: 1)).Train(vit, train, null));
        Assert.Contains("student (vit) cannot take 8×8 images", error.Message);
    }
}

[Collection(nameof(GlobalTorchState))]
public class ModelFamilyResumeTests
{
    [Fact]
    public void ConvNeXtWithDropPathResumesBitIdentically()
    {
        using var train = TrainingData.Separable(32, size: 32, seed: 1); // ConvNeXt downsamples by 32
        var options = (string? directory) =>
        {
            var o = TrainingData.FastOptions(epochs: 2);
            o.Augmentation = AugmentationOptions.Default;
            o.CheckpointDirectory = directory;
            return o;
        };
        var spec = new ConvNeXtSpec { NumClasses = 4, Depths = new[] { 1, 1, 1, 1 }, Dims = new[] { 8, 16, 16, 16 }, DropPathRate = 0.2 };
        using var reference = spec.CreateModel();
        var initial = reference.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        new ImageClassifierTrainer(options(null)).Train(reference, train, null);

        string directory = TestPaths.NewTempDirectory();
        using (var first = spec.CreateModel())
        using (var cts = new CancellationTokenSource())
        {
            first.load_state_dict(initial);
            Assert.ThrowsAny<OperationCanceledException>(() => new ImageClassifierTrainer(options(directory))
                .Train(first, train, null, onEpoch: _ => cts.Cancel(), cancellationToken: cts.Token));
        }
        using var resumed = spec.CreateModel();
        Assert.True(new ImageClassifierTrainer(options(directory)).Train(resumed, train, null).Resumed);
        Assert.Equal(0.0, TrainingData.MaxDifference(TrainingData.Snapshot(reference), TrainingData.Snapshot(resumed)));
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text;
using MLNet.WeightSelection.Bench.Infra;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Training;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Bench.Accuracy;

/// <summary>
/// <c>vit-pretrain [--embed 192] [--epochs 30]</c>: the teacher of the ViT transfer experiment, pretrained by this
/// project's own training on the 30,000 Fashion-MNIST training images of classes 0–4 (padded to 32 px), validated
/// on the 5,000 test images of those classes after every epoch. Resumable: the training state is kept after every
/// epoch in bench/out/vit-teacher-eE/train, and running the same command again continues where it stopped (or does
/// nothing when it is done). The final weights go to bench/out/vit-teacher-eE/teacher.safetensors.
/// </summary>
static class VitPretrain
{
    public static int Run(Args args, string[] raw)
    {
        int embed = args.Int("embed", 192);
        int epochs = args.Int("epochs", 30);
        int batch = args.Int("batch", 64);
        double lr = args.Double("lr", 1e-3);
        double dropPath = args.Double("drop-path", 0.1);
        int threads = args.Int("threads", Environment.ProcessorCount);
        int seed = args.Int("seed", 0);
        args.EnsureAllUsed();
        var machine = MachineInfo.Current();
        var started = DateTime.UtcNow;

        string folder = VitSetup.TeacherFolder(embed);
        string weights = VitSetup.TeacherWeights(embed);
        var spec = VitSetup.Spec(embed, 12, VitSetup.TeacherClasses.Length, dropPath);
        var options = new TrainingOptions
        {
            Epochs = epochs,
            BatchSize = batch,
            LearningRate = lr,
            WarmupEpochs = 1,
            Seed = seed,
            Threads = threads,
            // Crops, flips and erasing; no mixup/cutmix, so that a short schedule still fits the teacher well.
            Augmentation = new AugmentationOptions { MixProbability = 0 },
            CheckpointDirectory = Path.Combine(folder, "train"),
        };

        var trainSet = FashionMnist.Train();
        var testSet = FashionMnist.Test();
        using var train = trainSet.ToDataset(trainSet.Rows(VitSetup.TeacherClasses), VitSetup.TeacherClasses.Length);
        using var validation = testSet.ToDataset(testSet.Rows(VitSetup.TeacherClasses), VitSetup.TeacherClasses.Length);
        manual_seed(seed);
        using var teacher = spec.CreateModel();
        Guard.Finite(teacher, "the teacher's initialization");

        var clock = Stopwatch.StartNew();
        var result = new ImageClassifierTrainer(options).Train(teacher, train, validation,
            log: line => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}")); // epoch lines included
        var final = ImageClassifierTrainer.Evaluate(teacher, validation);
        SafeTensorsWriter.Save(weights, teacher.state_dict(), new Dictionary<string, string>
        {
            ["spec"] = spec.ToJson(indented: false),
            ["trained_on"] = "Fashion-MNIST train, classes 0-4 (30,000 images), padded to 32 px",
        });
        ResultFile.WriteAtomic(VitSetup.TeacherSpecFile(embed), spec.ToJson());

        var history = result.History;
        var md = new StringBuilder();
        md.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"ViT teacher: embed {embed}, depth 12, heads {VitSetup.Heads}, patch {VitSetup.Patch}, 32 px, drop path {dropPath}, {teacher.parameters().Sum(p => p.numel()):N0} parameters; " +
            $"{epochs} epochs of {train.Count:N0} images (classes 0–4), batch {batch}, lr {lr}, AdamW wd 0.05, cosine, label smoothing 0.1, crops/flip/erasing, no mixup/cutmix; {threads} threads."));
        md.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Accuracy on the 5,000 test images of classes 0–4: **{final.Accuracy:P2}**. Training time (all runs of this resumable command, validation included): {history[^1].Elapsed:hh\\:mm\\:ss}; " +
            $"median {Stats.Median(history.Select(h => h.ImagesPerSecond)):F0} images/s."));
        md.AppendLine();
        md.AppendLine("| epoch | train loss | val acc | val loss | img/s | data share | elapsed |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var h in history)
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {h.Epoch} | {h.TrainLoss:F4} | {h.ValidationAccuracy:P2} | {h.ValidationLoss:F4} | {h.ImagesPerSecond:F0} | {h.DataShare:P1} | {h.Elapsed:hh\\:mm\\:ss} |"));
        ResultFile.Write($"vit_teacher_e{embed}", ResultFile.Command(raw), machine, started, new
        {
            spec = spec.ToJson(indented: false),
            options = new { epochs, batch, lr, dropPath, threads, seed, augmentation = options.Augmentation.ToString() },
            train_images = train.Count,
            validation_images = validation.Count,
            final_accuracy = final.Accuracy,
            resumed = result.Resumed,
            this_invocation_seconds = clock.Elapsed.TotalSeconds,
            total_training_time = history[^1].Elapsed.ToString(),
            history,
            weights = Path.GetRelativePath(Repo.Root, weights),
        }, md.ToString());
        return 0;
    }
}

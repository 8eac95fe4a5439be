using System.CommandLine;
using System.Globalization;
using MLNet.WeightSelection.Cli.Infrastructure;
using MLNet.WeightSelection.Training;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>What <c>ws train</c> was asked.</summary>
internal sealed record TrainRequest
{
    public required string Data { get; init; }
    public string? Teacher { get; init; }
    public string? TeacherArch { get; init; }
    public required string Student { get; init; }
    public required string Out { get; init; }
    public int? Epochs { get; init; }
    public int? ImageSize { get; init; }
    public string Init { get; init; } = "selection";
    public int? BatchSize { get; init; }
    public double? LearningRate { get; init; }
    public double? WarmupEpochs { get; init; }
    public int Seed { get; init; } = 1;
    public double TestFraction { get; init; } = 0.2;
    public double ValidationFraction { get; init; } = 0.1;
    public string Layers { get; init; } = "first-n";
    public IReadOnlyList<string> LayerMap { get; init; } = Array.Empty<string>();
    public string Elements { get; init; } = "uniform";
    public bool WholeHeads { get; init; }
    /// <summary>logits, features or none; null: fitted (logits from the adapted teacher when it is adapted).</summary>
    public string? Distill { get; init; }
    public float DistillAlpha { get; init; } = 1f;
    public bool DistillAlphaGiven { get; init; }
    public float DistillTemperature { get; init; } = 1f;
    public bool DistillTemperatureGiven { get; init; }
    public int? Patience { get; init; }
    public double MinDelta { get; init; }
    public bool MinDeltaGiven { get; init; }
    public string? CheckpointDir { get; init; }
    public string Device { get; init; } = "cpu";
    public int? Threads { get; init; }

    /// <summary>--pixel-cache: folder keeping the decoded images between runs.</summary>
    public string? PixelCache { get; init; }
    public bool NoAugmentation { get; init; }
    public double? EmaDecay { get; init; }
    public bool NoEma { get; init; }
    public bool NoAdaptTeacher { get; init; }
    public int? AdaptEpochs { get; init; }
    public string? AutoAugment { get; init; }
}

/// <summary><c>ws train</c>: parsing only; <see cref="TrainRunner"/> does the work.</summary>
internal static class TrainCommand
{
    public static Command Create(CliContext context)
    {
        var data = new Option<string>("--data")
        {
            Description = "An image folder: train/<class>/<image> and optionally test/<class>/<image>; without train/, the folder's class "
                + "subfolders are the training data. A stratified test split is taken when there is no test/.",
            Required = true,
        };
        var teacher = new Option<string?>("--teacher")
        {
            Description = "The teacher: a checkpoint (.safetensors, .pt/.pth/.bin, .dat) with timm's names, or a ResNet .onnx such as "
                + "ML.NET's ResNet18.onnx. Required unless --init random without --distill logits or features.",
        };
        var teacherArch = new Option<string?>("--teacher-arch")
        {
            Description = Specs.Help("The teacher's architecture", "Told from the checkpoint's keys and shapes when omitted (a registered preset); an ONNX teacher's graph gives it."),
        };
        var student = new Option<string>("--student") { Description = Specs.Help("The student's architecture, of the teacher's family"), Required = true };
        var output = new Option<string>("--out")
        {
            Description = "Folder for model.zip (ML.NET), student.onnx, student.safetensors, student.json (spec) and selection-report.json. "
                + "Checked for write access before training.",
            Required = true,
        };
        var epochs = new Option<int?>("--epochs")
        {
            Description = $"Passes over the training images. Default: fitted, about {TrainingRecipe.TargetSteps:N0} optimizer steps within "
                + $"{TrainingRecipe.MinEpochs}-{TrainingRecipe.MaxEpochs} epochs.",
        };
        var imageSize = new Option<int?>("--image-size")
        {
            Description = $"Side of the square images the student sees. Default: fitted, images of {TrainingRecipe.SmallImageSide} px or less "
                + $"upsampled twofold, larger ones kept, at least {TrainingRecipe.MinImageSide} px and at most the architecture's size (224 for presets).",
        };
        var init = new Option<string>("--init")
        {
            Description = "selection: weight selection from the teacher (the paper's method); random: the student's own init (the baseline).",
            DefaultValueFactory = _ => "selection",
        };
        init.AcceptOnlyFromAmong("selection", "random");
        var batchSize = new Option<int?>("--batch-size") { Description = "Images per optimizer step. Default: fitted, 32 below 4,000 training images, 64 below 20,000, else 128." };
        var learningRate = new Option<double?>("--lr")
        {
            Description = $"Peak AdamW learning rate (cosine schedule after warmup). Default: fitted, {TrainingRecipe.BaseLearningRate.ToString(CultureInfo.InvariantCulture)} "
                + $"at batch {TrainingRecipe.BaseBatchSize}, scaled by the square root of batch/{TrainingRecipe.BaseBatchSize}.",
        };
        var warmup = new Option<double?>("--warmup-epochs")
        {
            Description = $"Epochs of linear learning-rate warmup (fractions allowed). Default: fitted, {TrainingRecipe.WarmupFraction * 100:0}% of the optimizer steps.",
        };
        var seed = new Option<int>("--seed") { Description = "Seed of the student's init, the test and validation splits, shuffling and augmentation.", DefaultValueFactory = _ => 1 };
        var testFraction = new Option<double>("--test-fraction")
        {
            Description = "Share of each class held out as the test split when the folder has no test/.",
            DefaultValueFactory = _ => 0.2,
        };
        var validationFraction = new Option<double>("--validation-fraction")
        {
            Description = "Share of each class of the training split held out for validation (EMA choice, early stopping, the teacher "
                + "adaptation's score); the test split is never seen in training. 0 trains on everything without validation (EMA then "
                + "off).",
            DefaultValueFactory = _ => 0.1,
        };
        var threads = new Option<int?>("--threads") { Description = "Cap on TorchSharp's threads and on the threads that read the images. Default: every core." };
        var pixelCache = new Option<string?>("--pixel-cache")
        {
            Description = "Folder that keeps the decoded, resized images, so the next run on the same images at the same size decodes "
                + "nothing (keyed by each file's path, length and write time, and the settings). Default: none (decode on every run).",
        };
        var noAugmentation = new Option<bool>("--no-augmentation")
        {
            Description = "Train on the images as they are: no crop, flip, mixup, cutmix or erasing. Default: fitted, a translation crop "
                + "for small images (else a random resized crop), flips, and mixup, cutmix and erasing only with enough images per class.",
        };
        var autoAugment = new Option<string?>("--aa")
        {
            Description = "RandAugment as timm's train.py --aa string, such as rand-m9-mstd0.5-inc1 (the paper's), in the fitted "
                + "augmentation; runs after the crop and flip; none turns it off. Default: fitted, the paper's for ResNet students below 300 "
                + "training images per class in runs of at least 10 epochs, else off (it slowed ViT students on small data). With --no-augmentation it is the only augmentation.",
        };
        autoAugment.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string?>();
            if (value is null || value == TrainRunner.NoRandAugment) return;
            try { RandAugmentOptions.Parse(value); }
            catch (FormatException e) { result.AddError($"--aa: {e.Message}"); }
        });

        var emaDecay = new Option<double?>("--ema-decay")
        {
            Description = "Decay of the exponential moving average of the weights (timm's model EMA with warmup), scored on the "
                + "validation split after every epoch and kept when it scores better. Default: fitted, on with timm's 0.9998 when there "
                + "is validation data.",
        };
        var noEma = new Option<bool>("--no-ema") { Description = "Turn the fitted model EMA off: keep the live weights." };
        var noAdaptTeacher = new Option<bool>("--no-adapt-teacher")
        {
            Description = "Select the student from the teacher as given. Default: with --init selection and a teacher made for another image "
                + "size than the training size (ImageNet teachers: 224 px) and fewer than 300 training images per class, the teacher is "
                + "first fine-tuned on the training split at the student's image size with its classifier reset to these classes, the "
                + "student is selected from it and distills its logits.",
        };
        var adaptEpochs = new Option<int?>("--adapt-epochs")
        {
            Description = "Epochs of the teacher's adaptation; setting it adapts the teacher whatever the data size. Default: fitted, "
                + "a sixth of the student's epochs (at least 1), when the recipe adapts.",
        };

        var selection = SelectionOptions();
        var distillation = DistillationOptions();
        var schedule = ScheduleOptions();

        var command = new Command("train",
            "Train a student on an image folder in ML.NET with a recipe fitted to the data (what you leave unset is chosen from the "
            + "images and printed): weight selection from an adapted teacher (or random init), distillation, EMA, early stopping and "
            + "resuming, a progress bar per epoch; writes model.zip, student.onnx and student.safetensors, and evaluates on the test "
            + "split, which training never sees. ONNX Runtime and the output folders are checked before any training.")
        {
            data, teacher, teacherArch, student, output, epochs, imageSize, init, batchSize, learningRate, warmup, seed, testFraction,
            validationFraction, selection.Layers, selection.LayerMap, selection.Elements, selection.WholeHeads,
            distillation.Mode, distillation.Alpha, distillation.Temperature,
            schedule.Patience, schedule.MinDelta, schedule.CheckpointDir, schedule.Device,
            threads, pixelCache, noAugmentation, emaDecay, noEma, noAdaptTeacher, adaptEpochs, autoAugment,
        };
        command.SetAction(parse => TrainRunner.Run(new TrainRequest
        {
            Data = parse.GetRequiredValue(data),
            Teacher = parse.GetValue(teacher),
            TeacherArch = parse.GetValue(teacherArch),
            Student = parse.GetRequiredValue(student),
            Out = parse.GetRequiredValue(output),
            Epochs = parse.GetValue(epochs),
            ImageSize = parse.GetValue(imageSize),
            Init = parse.GetValue(init)!,
            BatchSize = parse.GetValue(batchSize),
            LearningRate = parse.GetValue(learningRate),
            WarmupEpochs = parse.GetValue(warmup),
            Seed = parse.GetValue(seed),
            TestFraction = parse.GetValue(testFraction),
            ValidationFraction = parse.GetValue(validationFraction),
            Layers = parse.GetValue(selection.Layers)!,
            LayerMap = parse.GetValue(selection.LayerMap) ?? Array.Empty<string>(),
            Elements = parse.GetValue(selection.Elements)!,
            WholeHeads = parse.GetValue(selection.WholeHeads),
            Distill = parse.GetValue(distillation.Mode),
            DistillAlpha = parse.GetValue(distillation.Alpha),
            DistillAlphaGiven = Given(parse, distillation.Alpha),
            DistillTemperature = parse.GetValue(distillation.Temperature),
            DistillTemperatureGiven = Given(parse, distillation.Temperature),
            Patience = parse.GetValue(schedule.Patience),
            MinDelta = parse.GetValue(schedule.MinDelta),
            MinDeltaGiven = Given(parse, schedule.MinDelta),
            CheckpointDir = parse.GetValue(schedule.CheckpointDir),
            Device = parse.GetValue(schedule.Device)!,
            Threads = parse.GetValue(threads),
            PixelCache = parse.GetValue(pixelCache),
            NoAugmentation = parse.GetValue(noAugmentation),
            EmaDecay = parse.GetValue(emaDecay),
            NoEma = parse.GetValue(noEma),
            NoAdaptTeacher = parse.GetValue(noAdaptTeacher),
            AdaptEpochs = parse.GetValue(adaptEpochs),
            AutoAugment = parse.GetValue(autoAugment),
        }, context));
        return command;
    }

    /// <summary>True when the option was typed, not filled in from its default.</summary>
    static bool Given(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    static (Option<string> Layers, Option<string[]> LayerMap, Option<string> Elements, Option<bool> WholeHeads) SelectionOptions()
    {
        var layers = new Option<string>("--layers")
        {
            Description = "Layer selection (see ws select): which teacher layer each student layer takes, per layer group.",
            DefaultValueFactory = _ => "first-n",
        };
        layers.AcceptOnlyFromAmong(SelectCommand.LayerMethods);
        var layerMap = LayerMaps.CreateOption();
        var elements = new Option<string>("--elements") { Description = "Element selection (see ws select).", DefaultValueFactory = _ => "uniform" };
        elements.AcceptOnlyFromAmong(SelectCommand.ElementMethods);
        var wholeHeads = new Option<bool>("--whole-heads")
        {
            Description = "ViT with --init selection: select whole attention heads instead of dimensions across all heads; the head counts "
                + "come from the specs' num_heads. Default: off (uniform over the inner width, as the paper).",
        };
        return (layers, layerMap, elements, wholeHeads);
    }

    static (Option<string?> Mode, Option<float> Alpha, Option<float> Temperature) DistillationOptions()
    {
        var mode = new Option<string?>("--distill")
        {
            Description = "Knowledge distillation from the teacher: logits (from the adapted teacher, or a teacher with these classes), "
                + "features, or none. Default: fitted, logits when the teacher is adapted, else none.",
        };
        mode.AcceptOnlyFromAmong("none", "logits", "features");
        var alpha = new Option<float>("--distill-alpha")
        {
            Description = "Weight of the distillation term added to the cross-entropy (the KL term for logits, the L1 term for features). "
                + "Needs --distill logits or features.",
            DefaultValueFactory = _ => 1f,
        };
        var temperature = new Option<float>("--distill-temperature")
        {
            Description = "Softmax temperature T of logit distillation (the KL term is scaled by T²). Needs --distill logits.",
            DefaultValueFactory = _ => 1f,
        };
        return (mode, alpha, temperature);
    }

    static (Option<int?> Patience, Option<double> MinDelta, Option<string?> CheckpointDir, Option<string> Device) ScheduleOptions()
    {
        var patience = new Option<int?>("--patience")
        {
            Description = "Early stopping: stop after this many epochs without a better validation accuracy, and keep the best epoch's "
                + "weights. Default: off (train every epoch).",
        };
        var minDelta = new Option<double>("--min-delta")
        {
            Description = "Early stopping: the smallest rise in accuracy (a fraction, 0.01 = one point) that counts as better. Needs --patience.",
            DefaultValueFactory = _ => 0.0,
        };
        var checkpointDir = new Option<string?>("--checkpoint-dir")
        {
            Description = "Folder for a checkpoint of the last completed epoch. Running again with the same folder, data and options resumes "
                + "from it (after Ctrl+C or a crash); other options are refused. Default: none (nothing kept).",
        };
        var device = new Option<string>("--device")
        {
            Description = "Where to train: cpu, cuda or cuda:N (needs a CUDA build of TorchSharp; this tool ships the CPU one).",
            DefaultValueFactory = _ => "cpu",
        };
        device.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string>();
            if (value is null || !DeviceNames.IsValid(value))
                result.AddError($"--device must be cpu, cuda or cuda:N; got '{value}'.");
        });
        return (patience, minDelta, checkpointDir, device);
    }
}

using System.CommandLine;
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
    public int Epochs { get; init; } = 10;
    public int? ImageSize { get; init; }
    public string Init { get; init; } = "selection";
    public int BatchSize { get; init; } = 64;
    public double LearningRate { get; init; } = 1e-3;
    public int Seed { get; init; } = 1;
    public double TestFraction { get; init; } = 0.2;
    public string Layers { get; init; } = "first-n";
    public IReadOnlyList<string> LayerMap { get; init; } = Array.Empty<string>();
    public string Elements { get; init; } = "uniform";
    public bool WholeHeads { get; init; }
    public string Distill { get; init; } = "none";
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
    public bool NoAugmentation { get; init; }
    public double? EmaDecay { get; init; }
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
                + "ML.NET's ResNet18.onnx. Required unless --init random without --distill.",
        };
        var teacherArch = new Option<string?>("--teacher-arch")
        {
            Description = Specs.Help("The teacher's architecture", "Required with a checkpoint teacher; an ONNX teacher's graph gives it."),
        };
        var student = new Option<string>("--student") { Description = Specs.Help("The student's architecture, of the teacher's family"), Required = true };
        var output = new Option<string>("--out")
        {
            Description = "Folder for model.zip (ML.NET), student.onnx, student.safetensors, student.json (spec) and selection-report.json. "
                + "Checked for write access before training.",
            Required = true,
        };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training images.", DefaultValueFactory = _ => 10 };
        var imageSize = new Option<int?>("--image-size") { Description = "Side of the square images the student sees. Default: the student spec's (224 for presets)." };
        var init = new Option<string>("--init")
        {
            Description = "selection: weight selection from the teacher (the paper's method); random: the student's own init (the baseline).",
            DefaultValueFactory = _ => "selection",
        };
        init.AcceptOnlyFromAmong("selection", "random");
        var batchSize = new Option<int>("--batch-size") { Description = "Images per optimizer step.", DefaultValueFactory = _ => 64 };
        var learningRate = new Option<double>("--lr") { Description = "Peak AdamW learning rate (cosine schedule, 1 warmup epoch).", DefaultValueFactory = _ => 1e-3 };
        var seed = new Option<int>("--seed") { Description = "Seed of the student's init, the test split, shuffling and augmentation.", DefaultValueFactory = _ => 1 };
        var testFraction = new Option<double>("--test-fraction")
        {
            Description = "Share of each class held out as the test split when the folder has no test/.",
            DefaultValueFactory = _ => 0.2,
        };
        var threads = new Option<int?>("--threads") { Description = "Cap on TorchSharp's threads. Default: every core." };
        var noAugmentation = new Option<bool>("--no-augmentation")
        {
            Description = "Train on the images as they are: no random resized crop, flip, mixup, cutmix or erasing (default: the paper's recipe).",
        };
        var autoAugment = new Option<string?>("--aa")
        {
            Description = "RandAugment as timm's train.py --aa string, such as rand-m9-mstd0.5-inc1 (the paper's); runs after the crop and flip. "
                + "Default: off. With --no-augmentation it is the only augmentation.",
        };
        autoAugment.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string?>();
            if (value is null) return;
            try { RandAugmentOptions.Parse(value); }
            catch (FormatException e) { result.AddError($"--aa: {e.Message}"); }
        });

        var emaDecay = new Option<double?>("--ema-decay")
        {
            Description = "Keep an exponential moving average of the weights with this decay (timm's model EMA with warmup; timm's "
                + "default is 0.9998), score it on the test split after every epoch and keep it when it scores better. Default: off.",
        };

        var selection = SelectionOptions();
        var distillation = DistillationOptions();
        var schedule = ScheduleOptions();

        var command = new Command("train",
            "Train a student on an image folder in ML.NET: weight selection from the teacher (or random init), optional distillation, "
            + "early stopping and resuming, a progress bar per epoch; writes model.zip, student.onnx and student.safetensors, and "
            + "evaluates on the test split. ONNX Runtime and the output folders are checked before any training.")
        {
            data, teacher, teacherArch, student, output, epochs, imageSize, init, batchSize, learningRate, seed, testFraction,
            selection.Layers, selection.LayerMap, selection.Elements, selection.WholeHeads,
            distillation.Mode, distillation.Alpha, distillation.Temperature,
            schedule.Patience, schedule.MinDelta, schedule.CheckpointDir, schedule.Device,
            threads, noAugmentation, emaDecay, autoAugment,
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
            Seed = parse.GetValue(seed),
            TestFraction = parse.GetValue(testFraction),
            Layers = parse.GetValue(selection.Layers)!,
            LayerMap = parse.GetValue(selection.LayerMap) ?? Array.Empty<string>(),
            Elements = parse.GetValue(selection.Elements)!,
            WholeHeads = parse.GetValue(selection.WholeHeads),
            Distill = parse.GetValue(distillation.Mode)!,
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
            NoAugmentation = parse.GetValue(noAugmentation),
            EmaDecay = parse.GetValue(emaDecay),
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

    static (Option<string> Mode, Option<float> Alpha, Option<float> Temperature) DistillationOptions()
    {
        var mode = new Option<string>("--distill")
        {
            Description = "Knowledge distillation from the teacher: none, logits (needs a teacher with these classes) or features.",
            DefaultValueFactory = _ => "none",
        };
        mode.AcceptOnlyFromAmong("none", "logits", "features");
        var alpha = new Option<float>("--distill-alpha")
        {
            Description = "Weight of the distillation term added to the cross-entropy (the KL term for logits, the L1 term for features). "
                + "Needs --distill.",
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
            Description = "Early stopping: stop after this many epochs without a better test-split accuracy, and keep the best epoch's "
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

using System.CommandLine;
using MLNet.WeightSelection.Cli.Infrastructure;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>What <c>ws train</c> was asked.</summary>
internal sealed record TrainRequest(
    string Data,
    string? Teacher,
    string? TeacherArch,
    string Student,
    string Out,
    int Epochs,
    int? ImageSize,
    string Distill,
    string Init,
    int BatchSize,
    double LearningRate,
    int Seed,
    double TestFraction,
    string Layers,
    string Elements,
    int? Threads,
    bool NoAugmentation);

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
            Description = "Folder for model.zip (ML.NET), student.onnx, student.safetensors, student.json (spec) and selection-report.json.",
            Required = true,
        };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training images.", DefaultValueFactory = _ => 10 };
        var imageSize = new Option<int?>("--image-size") { Description = "Side of the square images the student sees. Default: the student spec's (224 for presets)." };
        var distill = new Option<string>("--distill")
        {
            Description = "Knowledge distillation from the teacher: none, logits (needs a teacher with these classes) or features.",
            DefaultValueFactory = _ => "none",
        };
        distill.AcceptOnlyFromAmong("none", "logits", "features");
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
        var layers = new Option<string>("--layers") { Description = "Layer selection (see ws select).", DefaultValueFactory = _ => "first-n" };
        layers.AcceptOnlyFromAmong(SelectCommand.LayerMethods);
        var elements = new Option<string>("--elements") { Description = "Element selection (see ws select).", DefaultValueFactory = _ => "uniform" };
        elements.AcceptOnlyFromAmong(SelectCommand.ElementMethods);
        var threads = new Option<int?>("--threads") { Description = "Cap on TorchSharp's threads. Default: every core." };
        var noAugmentation = new Option<bool>("--no-augmentation")
        {
            Description = "Train on the images as they are: no random resized crop, flip, mixup, cutmix or erasing (default: the paper's recipe).",
        };

        var command = new Command("train",
            "Train a student on an image folder in ML.NET: weight selection from the teacher (or random init), optional distillation, "
            + "a progress bar per epoch; writes model.zip, student.onnx and student.safetensors, and evaluates on the test split.")
        {
            data, teacher, teacherArch, student, output, epochs, imageSize, distill, init, batchSize, learningRate, seed, testFraction,
            layers, elements, threads, noAugmentation,
        };
        command.SetAction(parse => TrainRunner.Run(new TrainRequest(
            parse.GetRequiredValue(data), parse.GetValue(teacher), parse.GetValue(teacherArch), parse.GetRequiredValue(student),
            parse.GetRequiredValue(output), parse.GetValue(epochs), parse.GetValue(imageSize), parse.GetValue(distill)!,
            parse.GetValue(init)!, parse.GetValue(batchSize), parse.GetValue(learningRate), parse.GetValue(seed),
            parse.GetValue(testFraction), parse.GetValue(layers)!, parse.GetValue(elements)!, parse.GetValue(threads),
            parse.GetValue(noAugmentation)), context));
        return command;
    }
}

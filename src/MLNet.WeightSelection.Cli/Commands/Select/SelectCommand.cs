using System.CommandLine;
using MLNet.WeightSelection.Cli.Infrastructure;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>What <c>ws select</c> was asked.</summary>
internal sealed record SelectRequest(
    string Teacher,
    string? TeacherSpec,
    string StudentSpec,
    string Out,
    string Layers,
    string Elements,
    int Seed,
    string? Report,
    bool WithClassifier,
    int? NumClasses,
    int? ImageSize,
    bool WholeHeads,
    IReadOnlyList<string> LayerMap);

/// <summary><c>ws select</c>: parsing only; <see cref="SelectRunner"/> does the work.</summary>
internal static class SelectCommand
{
    public static readonly string[] LayerMethods = { "first-n", "uniform", "middle", "last" };
    public static readonly string[] ElementMethods = { "uniform", "consecutive", "random", "random-inconsistent", "l1", "magnitude" };

    public static Command Create(CliContext context)
    {
        var teacher = new Option<string>("--teacher")
        {
            Description = "The teacher checkpoint (.safetensors, .pt/.pth/.bin, .dat, or a ResNet .onnx) with timm's parameter names.",
            Required = true,
        };
        var teacherSpec = new Option<string?>("--teacher-spec")
        {
            Description = Specs.Help("The teacher's architecture", "When given, the checkpoint is checked against it (and loaded through "
                + "the family's checkpoint filter if its keys need adapting). Default: the family detected from the keys."),
        };
        var studentSpec = new Option<string>("--student-spec")
        {
            Description = Specs.Help("The student's architecture, of the teacher's family"),
            Required = true,
        };
        var output = new Option<string>("--out")
        {
            Description = "The student state dict to write (.safetensors). timm loads it with model.load_state_dict(..., strict=False) "
                + "(the classifier is left out) or strict=True with --with-classifier. Written atomically: nothing on error.",
            Required = true,
        };
        var layers = new Option<string>("--layers")
        {
            Description = "Layer selection: which teacher layer each student layer takes (per stage in ConvNeXt and ResNet).",
            DefaultValueFactory = _ => "first-n",
        };
        layers.AcceptOnlyFromAmong(LayerMethods);
        var layerMap = LayerMaps.CreateOption();
        var elements = new Option<string>("--elements")
        {
            Description = "Element selection: uniform (the paper's default), consecutive, random (consistent per width), "
                + "random-inconsistent (the paper's ablation), l1 or magnitude (pruning baselines).",
            DefaultValueFactory = _ => "uniform",
        };
        elements.AcceptOnlyFromAmong(ElementMethods);
        var seed = new Option<int>("--seed")
        {
            Description = "Seed of the random element selections and of the student's own initialization (its classifier).",
            DefaultValueFactory = _ => 0,
        };
        var report = new Option<string?>("--report") { Description = "Also write the selection report as JSON to this file." };
        var withClassifier = new Option<bool>("--with-classifier")
        {
            Description = "Store the student's own classifier initialization too, so the file loads strictly. Default: the classifier is left out.",
        };
        var numClasses = new Option<int?>("--num-classes") { Description = "Override the student spec's num_classes (matters with --with-classifier)." };
        var imageSize = new Option<int?>("--image-size")
        {
            Description = "Override the student's image size (a ViT student's position embedding is resampled to it).",
        };
        var wholeHeads = new Option<bool>("--whole-heads")
        {
            Description = "ViT: select whole attention heads instead of dimensions across all heads (needs num_heads in both specs).",
        };

        var command = new Command("select", "Initialize a student from a larger teacher by weight selection and write the student's state dict as safetensors.")
        {
            teacher, teacherSpec, studentSpec, output, layers, layerMap, elements, seed, report, withClassifier, numClasses, imageSize, wholeHeads,
        };
        command.SetAction(parse => SelectRunner.Run(new SelectRequest(
            parse.GetRequiredValue(teacher),
            parse.GetValue(teacherSpec),
            parse.GetRequiredValue(studentSpec),
            parse.GetRequiredValue(output),
            parse.GetValue(layers)!,
            parse.GetValue(elements)!,
            parse.GetValue(seed),
            parse.GetValue(report),
            parse.GetValue(withClassifier),
            parse.GetValue(numClasses),
            parse.GetValue(imageSize),
            parse.GetValue(wholeHeads),
            parse.GetValue(layerMap) ?? Array.Empty<string>()), context));
        return command;
    }
}

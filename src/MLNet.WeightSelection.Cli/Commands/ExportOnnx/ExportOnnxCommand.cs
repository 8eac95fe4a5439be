using System.CommandLine;
using MLNet.WeightSelection.Cli.Infrastructure;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>What <c>ws export-onnx</c> was asked.</summary>
internal sealed record ExportOnnxRequest(string Checkpoint, string Spec, string Out, int? ImageSize, int? NumClasses, int Opset,
    bool Features, bool Bgr);

/// <summary><c>ws export-onnx</c>: parsing only; <see cref="ExportOnnxRunner"/> does the work.</summary>
internal static class ExportOnnxCommand
{
    public static Command Create(CliContext context)
    {
        var checkpoint = new Option<string>("--checkpoint")
        {
            Description = "The trained model's weights (.safetensors, .pt/.pth/.bin, .dat) under timm's names, including the classifier.",
            Required = true,
        };
        var spec = new Option<string>("--spec")
        {
            Description = Specs.Help("The model's architecture", "Its pretrained_cfg (mean, std) is the normalization built into the graph."),
            Required = true,
        };
        var output = new Option<string>("--out") { Description = "The .onnx file to write (atomically).", Required = true };
        var imageSize = new Option<int?>("--image-size")
        {
            Description = "Image side in the input shape. Default: the spec's image size (a ViT must keep its own).",
        };
        var numClasses = new Option<int?>("--num-classes")
        {
            Description = "Classes of the classifier. Default: read from the checkpoint's classifier weight.",
        };
        var opset = new Option<int>("--opset") { Description = "ONNX opset (at least 17).", DefaultValueFactory = _ => 17 };
        var noFeatures = new Option<bool>("--no-features") { Description = "Leave out the pooled pre-logits 'features' output." };
        var bgr = new Option<bool>("--bgr") { Description = "The input planes come in B, G, R order (default R, G, B, as ML.NET's ExtractPixels gives)." };

        var command = new Command("export-onnx",
            "Export a trained model to ONNX: raw 0-255 planar pixels in, normalization inside, softmax 'probabilities' (and 'features') out. "
            + "Runs in ONNX Runtime and ML.NET's ApplyOnnxModel without libtorch.")
        {
            checkpoint, spec, output, imageSize, numClasses, opset, noFeatures, bgr,
        };
        command.SetAction(parse => ExportOnnxRunner.Run(new ExportOnnxRequest(
            parse.GetRequiredValue(checkpoint), parse.GetRequiredValue(spec), parse.GetRequiredValue(output),
            parse.GetValue(imageSize), parse.GetValue(numClasses), parse.GetValue(opset), !parse.GetValue(noFeatures), parse.GetValue(bgr)), context));
        return command;
    }
}

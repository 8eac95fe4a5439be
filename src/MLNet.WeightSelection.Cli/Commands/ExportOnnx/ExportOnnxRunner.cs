using MLNet.WeightSelection.Cli.Infrastructure;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.Onnx;
using MLNet.WeightSelection.Selection;
using Spectre.Console;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>The work of <c>ws export-onnx</c>: build the spec's model, load the checkpoint strictly, export.</summary>
internal static class ExportOnnxRunner
{
    public static int Run(ExportOnnxRequest request, CliContext context)
    {
        string output = AtomicOutputs.CheckTarget(request.Out, "--out");
        var spec = Specs.Resolve(request.Spec, "--spec");
        using var file = WeightFile.Open(request.Checkpoint, "--checkpoint");

        int? stored = ClassesIn(file, spec);
        if (stored is null && request.NumClasses is not 0)
            throw new CliException($"--checkpoint: '{file.Path}' has no classifier ({string.Join(", ", FamilySchemas.ByName(spec.Family).ClassifierKeys)}), "
                + "so it has no class probabilities to export: it looks like a 'ws select' output. Train it first, or select with --with-classifier.");
        int classes = request.NumClasses ?? stored ?? 0;
        spec = ModelRegistry.WithOverrides(spec, classes);
        using var model = spec.CreateModel();
        model.Input = file.Input ?? spec.Input;
        var loaded = model.LoadStateDict(file.Tensors, strict: true);
        model.eval();

        var options = new OnnxExportOptions
        {
            ImageSize = request.ImageSize,
            Opset = request.Opset,
            IncludeFeatures = request.Features,
            PixelOrder = request.Bgr ? ChannelOrder.Bgr : ChannelOrder.Rgb,
        };
        using (var outputs = new AtomicOutputs())
        {
            outputs.Add(output, temp => OnnxExporter.Export(model, temp, options));
            outputs.Commit();
        }

        int size = request.ImageSize ?? spec.ImageSize;
        var input = model.Input;
        context.Out.WriteLine($"Wrote {output} ({Format.Bytes(new FileInfo(output).Length)}): {spec.Family}, {loaded.LoadedKeys.Count} tensors, {classes} classes.");
        context.Out.WriteLine($"Input 'input': float [N, {spec.InChans}, {size}, {size}], raw pixels 0-255, planar {(request.Bgr ? "BGR" : "RGB")}; "
            + $"normalized inside ({input.Order}, / {input.Scale}, mean [{string.Join(", ", input.Mean)}], std [{string.Join(", ", input.Std)}]).");
        context.Out.WriteLine($"Outputs: 'probabilities' [N, {classes}]" + (request.Features ? $", 'features' [N, {model.NumFeatures}]" : "") + ".");
        return ExitCodes.Success;
    }

    /// <summary>The classifier's output count in the checkpoint, so a 10-class student exports from a 1000-class preset spec.</summary>
    static int? ClassesIn(WeightFile file, ModelSpec spec)
    {
        string? weight = FamilySchemas.ByName(spec.Family).ClassifierKeys.FirstOrDefault(k => k.EndsWith(".weight", StringComparison.Ordinal));
        if (weight is null || !file.Tensors.Contains(weight)) return null;
        return (int)file.Tensors.GetInfo(weight).Shape[0];
    }
}

using MLNet.WeightSelection.Cli.Infrastructure;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using Spectre.Console;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>The work of <c>ws inspect</c>: a summary, then the tensor table.</summary>
internal static class InspectRunner
{
    /// <summary>Characters of a metadata value printed. A value may fill most of a 100 MB header; printed whole it took a minute and gigabytes.</summary>
    public const int MetadataShown = 200;

    public static int Run(InspectRequest request, CliContext context)
    {
        if (request.Limit < 1) throw new CliException($"--limit must be at least 1; got {request.Limit}.");
        using var file = WeightFile.Open(request.Checkpoint, "checkpoint");
        var summary = CheckpointSummary.Of(file.Tensors);
        var console = context.Out;

        console.WriteLine($"Checkpoint: {file.Path}");
        console.WriteLine($"Format: {file.Format}, {Format.Bytes(new FileInfo(file.Path).Length)}");
        console.WriteLine($"Tensors: {summary.TensorCount}");
        console.WriteLine($"Parameters: {Format.Count(summary.Parameters)} ({Format.Short(summary.Parameters)})"
            + (summary.Buffers > 0 ? $", buffers: {Format.Count(summary.Buffers)}" : ""));
        console.WriteLine($"Dtypes: {string.Join(", ", summary.DTypes.Select(kv => $"{kv.Key} x{kv.Value}"))}");
        if (summary.Family is { } family)
        {
            console.WriteLine($"Family: {family}");
            var presets = PresetMatcher.Find(CheckpointShapes.Of(file.Tensors), family);
            console.WriteLine(presets.Count > 0
                ? $"Preset: {string.Join("; ", presets)}"
                : $"Preset: none (no registered {family} preset has exactly these shapes; describe it with a JSON spec)");
        }
        else
        {
            console.WriteLine($"Family: unknown (the keys match none of {string.Join(", ", ModelFamilies.Names)} in timm's naming)");
        }
        if (file.Tensors is SafeTensorsFile { Metadata.Count: > 0 } safetensors)
            foreach (var (key, value) in safetensors.Metadata) console.WriteLine($"Metadata {key}: {Shorten(value)}");
        if (file.Input is { } input)
            console.WriteLine($"Input: {input.Order}, pixels / {input.Scale}, mean [{string.Join(", ", input.Mean)}], std [{string.Join(", ", input.Std)}]");
        foreach (var note in file.Notes) console.WriteLine($"Note: {note}");
        console.WriteLine();

        var table = Tables.Create("#", "name", "shape", "dtype", "elements").RightAligned(0, 4);
        int shown = request.All ? summary.TensorCount : Math.Min(request.Limit, summary.TensorCount);
        for (int i = 0; i < shown; i++)
        {
            var t = file.Tensors.GetInfo(file.Tensors.Keys[i]);
            table.AddTextRow((i + 1).ToString(), t.Name, Format.Shape(t.Shape), CheckpointSummary.DTypeName(t.DType), Format.Count(t.ElementCount));
        }
        console.Write(table);
        if (shown < summary.TensorCount)
            console.WriteLine($"... {summary.TensorCount - shown} more tensors; --all lists every one.");
        return ExitCodes.Success;
    }

    static string Shorten(string value)
    {
        if (value.Length <= MetadataShown) return value;
        int cut = char.IsHighSurrogate(value[MetadataShown - 1]) ? MetadataShown - 1 : MetadataShown; // keep pairs whole
        return $"{value[..cut]}... ({Format.Count(value.Length)} characters; the first {cut} are shown)";
    }
}

using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Models;

namespace MLNet.WeightSelection.Cli.Infrastructure;

/// <summary>
/// A file of weights opened for reading: any checkpoint <see cref="Checkpoint.Open"/> reads, or a ResNet in ONNX form
/// imported under timm's names. Disposing it releases the file or the imported tensors.
/// </summary>
internal sealed class WeightFile : IDisposable
{
    readonly IDisposable _owner;

    WeightFile(string path, string format, ITensorSource tensors, IDisposable owner, InputConvention? input, IReadOnlyList<string> notes)
    {
        Path = path;
        Format = format;
        Tensors = tensors;
        _owner = owner;
        Input = input;
        Notes = notes;
    }

    /// <summary>The full path.</summary>
    public string Path { get; }

    /// <summary>"safetensors", "PyTorch", "TorchSharp" or "ONNX (imported)".</summary>
    public string Format { get; }

    /// <summary>The tensors under timm's names.</summary>
    public ITensorSource Tensors { get; }

    /// <summary>The input convention the file states (an ONNX preprocessing model); null when the file does not say.</summary>
    public InputConvention? Input { get; }

    /// <summary>What the importer wants the user to know (ONNX padding, missing classifier).</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Opens <paramref name="path"/>; <paramref name="option"/> names the option it came from in errors.</summary>
    public static WeightFile Open(string path, string option)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new CliException($"{option} is empty; give the path of a checkpoint.");
        string full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new CliException($"{option}: '{full}' is a folder; give a checkpoint file.");
        if (!File.Exists(full)) throw new CliException($"{option}: no file at '{full}'.");
        if (full.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            var import = OnnxResNetImporter.Import(full);
            return new WeightFile(full, "ONNX (imported)", import.Weights, import, import.Input, import.Notes);
        }
        var source = Checkpoint.Open(full);
        string format = source switch
        {
            SafeTensorsFile => "safetensors",
            _ when full.EndsWith(".dat", StringComparison.OrdinalIgnoreCase) => "TorchSharp",
            _ => "PyTorch",
        };
        return new WeightFile(full, format, source, source, null, Array.Empty<string>());
    }

    /// <inheritdoc />
    public void Dispose() => _owner.Dispose();
}

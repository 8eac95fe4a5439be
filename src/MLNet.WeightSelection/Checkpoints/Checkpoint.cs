using System.Buffers.Binary;

namespace MLNet.WeightSelection.Checkpoints;

/// <summary>Opens a checkpoint of any supported format as an <see cref="ITensorSource"/>.</summary>
public static class Checkpoint
{
    /// <summary>
    /// Opens <paramref name="path"/>: safetensors (<c>.safetensors</c>, memory-mapped and read lazily), PyTorch
    /// (<c>.pt</c>, <c>.pth</c>, <c>.bin</c>, <c>.ckpt</c>, loaded into a <see cref="StateDict"/>) or TorchSharp's
    /// <c>Module.save</c> format (<c>.dat</c>). The content decides where it is unambiguous: a zip archive is read as
    /// PyTorch and a safetensors header as safetensors, whatever the extension.
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="NotSupportedException">An ONNX model: import it with <c>Teacher.FromOnnx</c> or <c>OnnxResNetImporter.Import</c> instead.</exception>
    /// <exception cref="InvalidDataException">The file is corrupt or of no known format; the message names it.</exception>
    public static ITensorSource Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"No checkpoint at '{full}'.", full);

        string extension = Path.GetExtension(full).ToLowerInvariant();
        if (extension == ".onnx")
            throw new NotSupportedException(
                $"'{full}' is an ONNX model, not a checkpoint: its weights are graph initializers without timm's names. " +
                "Import it with Teacher.FromOnnx (or OnnxResNetImporter.Import), which names them by walking the graph.");

        var format = Sniff(full);
        if (extension == ".safetensors" || format == Format.SafeTensors) return SafeTensorsFile.Open(full);
        if (format == Format.Zip) return PyTorchCheckpoint.Load(full);
        return extension switch
        {
            ".pt" or ".pth" or ".bin" or ".ckpt" => PyTorchCheckpoint.Load(full),
            ".dat" => TorchSharpCheckpoint.Load(full),
            _ => throw new InvalidDataException(
                $"'{full}' is not a recognised checkpoint: not a zip archive (PyTorch) nor safetensors, and its extension " +
                $"'{extension}' is none of .safetensors, .pt, .pth, .bin, .ckpt, .dat."),
        };
    }

    enum Format { Unknown, Zip, SafeTensors }

    static Format Sniff(string path)
    {
        Span<byte> head = stackalloc byte[9];
        int read;
        long length;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            length = stream.Length;
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        if (read >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return Format.Zip;
        if (read == 9 && head[8] == '{')
        {
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(head);
            if (headerLength >= 2 && headerLength <= (ulong)(length - 8)) return Format.SafeTensors;
        }
        return Format.Unknown;
    }
}

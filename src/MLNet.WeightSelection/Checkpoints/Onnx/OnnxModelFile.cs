using Google.Protobuf;
using Onnx;

namespace MLNet.WeightSelection.Checkpoints.Onnx;

/// <summary>Reads an ONNX model file, turning every way it can be unreadable into one clear exception.</summary>
internal static class OnnxModelFile
{
    /// <summary>Parses <paramref name="path"/> as an ONNX ModelProto with a graph.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not an ONNX model; the message names the file.</exception>
    public static ModelProto Load(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"ONNX model '{path}' does not exist.", path);
        ModelProto model;
        try
        {
            // Parsing from memory is about twice as fast as from a stream for large packed weight arrays.
            model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{path}: not an ONNX model (the protobuf ModelProto does not parse: {e.Message}).", e);
        }
        // Arbitrary bytes sometimes parse as a protobuf message with unknown fields; an ONNX model has a graph with nodes.
        if (model.Graph is null || model.Graph.Node.Count == 0 || model.IrVersion <= 0)
            throw new InvalidDataException($"{path}: not an ONNX model (expected a ModelProto with an IR version and a graph of nodes).");
        return model;
    }
}

using System.IO.Compression;
using Google.Protobuf;
using Onnx;

namespace MLNet.WeightSelection.MLNet;

/// <summary>
/// Finds the student's ONNX graph inside a saved model.zip, so a loaded model can score in batches too. ML.NET stores
/// each <c>ApplyOnnxModel</c> step's graph in an entry named <c>OnnxModel</c>: a 32-bit length, then the graph. The
/// student is the graph that reads <see cref="ScoringChain.StudentInput"/> and writes <see cref="ScoringChain.StudentOutput"/>.
/// </summary>
internal static class SavedStudent
{
    /// <summary>The student's ONNX bytes, or null when the archive holds none or more than one.</summary>
    public static byte[]? Find(ZipArchive archive)
    {
        byte[]? found = null;
        foreach (var entry in archive.Entries)
        {
            if (entry.Name != "OnnxModel" || entry.Length < 4 || entry.Length > int.MaxValue) continue;
            var bytes = new byte[entry.Length];
            using (var stream = entry.Open()) stream.ReadExactly(bytes);
            int length = BitConverter.ToInt32(bytes, 0);
            if (length != bytes.Length - 4) continue; // not the layout this reader knows: score row by row
            var graph = bytes[4..];
            if (!IsStudent(graph)) continue;
            if (found is not null) return null; // two students: which chain each belongs to is not written down
            found = graph;
        }
        return found;
    }

    static bool IsStudent(byte[] onnx)
    {
        try
        {
            var graph = ModelProto.Parser.ParseFrom(onnx).Graph;
            return graph is not null
                && graph.Input.Any(i => i.Name == ScoringChain.StudentInput)
                && graph.Output.Any(o => o.Name == ScoringChain.StudentOutput);
        }
        catch (InvalidProtocolBufferException)
        {
            return false;
        }
    }
}

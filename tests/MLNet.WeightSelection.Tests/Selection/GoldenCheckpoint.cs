using System.Text.Json;
using MLNet.WeightSelection.Checkpoints;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Selection;

/// <summary>
/// The golden cases of ../shared/golden/manifest.json, and a small test-only safetensors reader for them (F32 and
/// I64 only) used until the library's own reader is available.
/// </summary>
public static class GoldenCheckpoint
{
    public sealed record Case(string Name, string Family, string Teacher, string Student, string[] ClassifierKeys);

    public static IReadOnlyList<Case> Cases()
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(TestPaths.GoldenFile("manifest.json")));
        return manifest.RootElement.GetProperty("cases").EnumerateArray().Select(c => new Case(
            c.GetProperty("name").GetString()!, c.GetProperty("family").GetString()!,
            TestPaths.GoldenFile(c.GetProperty("files").GetProperty("teacher").GetString()!),
            TestPaths.GoldenFile(c.GetProperty("files").GetProperty("student").GetString()!),
            c.GetProperty("classifier_keys").EnumerateArray().Select(k => k.GetString()!).ToArray())).ToArray();
    }

    public static StateDict Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        long headerLength = BitConverter.ToInt64(bytes, 0);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        var dict = new StateDict(path);
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var data = bytes.AsSpan((int)(8 + headerLength + offsets[0]), (int)(offsets[1] - offsets[0]));
            dict.Add(entry.Name, entry.Value.GetProperty("dtype").GetString() switch
            {
                "F32" => tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(data).ToArray(), shape),
                "I64" => tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(data).ToArray(), shape),
                var other => throw new NotSupportedException($"{path}: '{entry.Name}' has dtype {other}; this test reader knows F32 and I64."),
            });
        }
        return dict;
    }
}

using System.Buffers.Binary;
using System.Diagnostics;
using System.Text.Json;
using MLNet.WeightSelection.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Checkpoints;

/// <summary>
/// Opening a file costs memory within 3x its header's size, whatever fills the header: many small tensors or one long
/// metadata string. (The format caps headers at 100 MB so that readers stay cheap; a reader that builds a JSON tree
/// and copies the header spent 25x on a 99 MB one.)
/// </summary>
public class SafeTensorsHeaderCostTests
{
    const double Bound = 3.0;

    [Fact]
    public void AHeaderOfFiftyThousandTensorsOpensWithinThreeTimesItsSize()
    {
        using var tmp = new TempFolder();
        string path = tmp.File("many.safetensors");
        const int tensors = 50_000;
        long headerBytes = WriteFile(path, tensors, metadataChars: 0);
        Assert.InRange(headerBytes, 3_000_000, 6_000_000);

        var (allocated, seconds) = MeasureOpen(path, file =>
        {
            Assert.Equal(tensors, file.Keys.Count);
            Assert.Equal($"blocks.{tensors - 1}.mlp.fc1.weight", file.Keys[^1]);
            var info = file.GetInfo("blocks.777.mlp.fc1.weight");
            Assert.Equal(new long[] { 2, 3 }, info.Shape);
            Assert.Equal(ScalarType.Float16, info.DType);
            using var t = file.Read("blocks.777.mlp.fc1.weight", ScalarType.Float32);
            Assert.Equal(Enumerable.Range(0, 6).Select(i => (double)(777 + i)), TestFiles.Values(t));
        });

        Assert.True(allocated <= Bound * headerBytes,
            $"opening a {headerBytes:N0}-byte header allocated {allocated:N0} bytes ({allocated / (double)headerBytes:F2}x) in {seconds:F2} s");
    }

    [Fact]
    public void AHeaderFilledByOneMetadataStringOpensWithinThreeTimesItsSize()
    {
        using var tmp = new TempFolder();
        string path = tmp.File("metadata.safetensors");
        long headerBytes = WriteFile(path, tensors: 1, metadataChars: 4_000_000);

        var (allocated, seconds) = MeasureOpen(path, file =>
        {
            Assert.Equal(4_000_000, file.Metadata["notes"].Length);
            Assert.Single(file.Keys);
        });

        Assert.True(allocated <= Bound * headerBytes,
            $"opening a {headerBytes:N0}-byte header allocated {allocated:N0} bytes ({allocated / (double)headerBytes:F2}x) in {seconds:F2} s");
    }

    // Bytes allocated on this thread by Open alone; the checks run afterwards, outside the measurement.
    static (long Allocated, double Seconds) MeasureOpen(string path, Action<SafeTensorsFile> check)
    {
        SafeTensorsFile.Open(path).Dispose(); // first-call costs (static tables) are not the header's
        var clock = Stopwatch.StartNew();
        long before = GC.GetAllocatedBytesForCurrentThread();
        using var file = SafeTensorsFile.Open(path);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        double seconds = clock.Elapsed.TotalSeconds;
        check(file);
        return (allocated, seconds);
    }

    // Tensors named like a ViT's, each F16 [2, 3] holding i, i+1, ..., i+5, written in header order; returns the header's length.
    static long WriteFile(string path, int tensors, int metadataChars)
    {
        var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadataChars > 0)
            {
                json.WriteStartObject("__metadata__");
                json.WriteString("notes", new string('n', metadataChars));
                json.WriteEndObject();
            }
            for (int i = 0; i < tensors; i++)
            {
                json.WriteStartObject($"blocks.{i}.mlp.fc1.weight");
                json.WriteString("dtype", "F16");
                json.WriteStartArray("shape");
                json.WriteNumberValue(2);
                json.WriteNumberValue(3);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(12L * i);
                json.WriteNumberValue(12L * i + 12);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        using var file = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        file.Write(length);
        header.Position = 0;
        header.CopyTo(file);
        var data = new byte[12L * tensors];
        for (int i = 0; i < tensors; i++)
            for (int j = 0; j < 6; j++)
                BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(12 * i + 2 * j), (Half)((i + j) % 2048));
        file.Write(data);
        return header.Length;
    }
}

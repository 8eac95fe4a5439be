using System.Runtime.InteropServices;
using System.Text;
using MLNet.WeightSelection.Checkpoints;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Checkpoints;

/// <summary>Memory is measured for the whole process, so these tests run alone, after the parallel ones.</summary>
[CollectionDefinition(nameof(ProcessMemoryMeasurement), DisableParallelization = true)]
public class ProcessMemoryMeasurement { }

[Collection(nameof(ProcessMemoryMeasurement))]
public class SafeTensorsStreamingTests
{
    const long Rows = 51_200, Columns = 1024; // float32: 200 MiB
    readonly ITestOutputHelper _output;

    public SafeTensorsStreamingTests(ITestOutputHelper output) => _output = output;

    static float Value(long row, long column) => row + (column % 8) * 0.125f;

    [Fact]
    public void ReadSelectedFromA200MBFileUsesMemoryNearTheSliceSize()
    {
        if (!OperatingSystem.IsLinux()) return; // /proc is the measuring instrument
        string folder = TestPaths.NewTempDirectory();
        try
        {
            string path = Path.Combine(folder, "big.safetensors");
            long fileBytes = WriteBigFile(path);
            long[] rows = Enumerable.Range(0, 192).Select(i => i * (Rows / 192)).ToArray();
            long[] columns = Enumerable.Range(0, 256).Select(i => i * 4L).ToArray();

            // JIT and TorchSharp warm-up on a small file, so their one-time costs stay out of the measurement.
            string small = Path.Combine(folder, "small.safetensors");
            using (var t = ones(8, 8)) SafeTensorsWriter.Save(small, new[] { KeyValuePair.Create("big", t) });
            using (var f = SafeTensorsFile.Open(small))
            using (f.ReadSelected("big", new long[]?[] { new long[] { 1, 5 }, new long[] { 0, 4 } })) { }
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();

            // What is measured: the process's peak resident memory (VmHWM), reset to the current size by writing "5"
            // to /proc/self/clear_refs, so the peak afterwards is the most this read ever added. It counts the
            // managed heap and native (libtorch) allocations, and also the file's page-cache pages that the mapping
            // touched. Those are shared, reclaimable cache, not allocations, and this kernel maps them in large
            // folios (about 1 MiB per touched row here), so they are subtracted: the file pages still mapped at the
            // end are the most the mapping held at any time. A whole-tensor copy cannot hide in that subtraction: it
            // would allocate 200 MiB while every file page is mapped. Where the reset is refused, the resident size
            // just after the read (before the file is closed) stands in for the peak.
            bool peakReset = TryResetPeak();
            long baselinePeak = Status("VmHWM:"), baselineRss = Status("VmRSS:"), baselineFile = Status("RssFile:");
            long totalGrowth, fileGrowth;
            Tensor selected;
            using (var file = SafeTensorsFile.Open(path))
            {
                Assert.True(file.RandomAccessHinted, "madvise(MADV_RANDOM) was not applied to the mapping");
                selected = file.ReadSelected("big", new long[]?[] { rows, columns });
                totalGrowth = Status("VmRSS:") - baselineRss;
                fileGrowth = Status("RssFile:") - baselineFile;
            }
            if (peakReset) totalGrowth = Status("VmHWM:") - baselinePeak;
            long growth = totalGrowth - fileGrowth;
            using (selected)
            {
                Assert.Equal(new long[] { 192, 256 }, selected.shape);
                var values = selected.data<float>().ToArray();
                for (int i = 0; i < rows.Length; i += 37)
                    for (int j = 0; j < columns.Length; j += 51)
                        Assert.Equal(Value(rows[i], columns[j]), values[i * columns.Length + j]);
            }

            long sliceBytes = 192 * 256 * 4;
            _output.WriteLine($"file {fileBytes >> 20} MiB, slice {sliceBytes >> 10} KiB: {(peakReset ? "peak" : "resident")} growth " +
                $"{totalGrowth / 1048576.0:F1} MiB, of which mapped file pages {fileGrowth / 1048576.0:F1} MiB, " +
                $"managed + native {growth / 1048576.0:F1} MiB");
            Assert.True(growth < 24L << 20,
                $"managed + native memory grew by {growth / 1048576.0:F1} MiB reading a {sliceBytes >> 10} KiB slice of a {fileBytes >> 20} MiB file");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    static long WriteBigFile(string path)
    {
        long dataBytes = Rows * Columns * 4;
        string header = $"{{\"big\":{{\"dtype\":\"F32\",\"shape\":[{Rows},{Columns}],\"data_offsets\":[0,{dataBytes}]}}}}";
        header = header.PadRight((header.Length + 7) / 8 * 8);
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        stream.Write(BitConverter.GetBytes((ulong)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header));
        const int chunkRows = 256;
        var chunk = new float[chunkRows * Columns];
        for (long start = 0; start < Rows; start += chunkRows)
        {
            for (int r = 0; r < chunkRows; r++)
                for (int c = 0; c < Columns; c++)
                    chunk[r * Columns + c] = Value(start + r, c);
            stream.Write(MemoryMarshal.AsBytes(chunk.AsSpan()));
        }
        return stream.Length;
    }

    static bool TryResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>A /proc/self/status field in bytes.</summary>
    static long Status(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field, StringComparison.Ordinal))
                return long.Parse(line[field.Length..].Trim().Split(' ')[0]) * 1024;
        throw new InvalidOperationException($"/proc/self/status has no {field}");
    }
}

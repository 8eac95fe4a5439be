using MLNet.WeightSelection.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Checkpoints;

/// <summary>The golden files were written by an independent writer (timm's side), so reading them tests the format.</summary>
public class SafeTensorsGoldenTests
{
    [Fact]
    public void EveryGoldenFileReadsWithConsistentInfo()
    {
        var files = TestFiles.GoldenSafeTensors().ToList();
        Assert.True(files.Count >= 9, $"expected the golden files in {TestPaths.Golden}, found {files.Count}");
        foreach (var path in files)
        {
            using var file = SafeTensorsFile.Open(path);
            Assert.Equal(Path.GetFullPath(path), file.Origin);
            Assert.NotEmpty(file.Keys);
            Assert.Equal(file.Keys.Count, file.Keys.Distinct().Count());
            long totalBytes = 0;
            foreach (var key in file.Keys)
            {
                Assert.True(file.Contains(key));
                var info = file.GetInfo(key);
                Assert.Equal(key, info.Name);
                Assert.Contains(info.DType, new[] { ScalarType.Float32, ScalarType.Int64 });
                using var t = file.Read(key);
                Assert.Equal(info.DType, t.dtype);
                Assert.Equal(info.Shape, t.shape);
                Assert.Equal(info.ElementCount, t.NumberOfElements);
                totalBytes += info.ElementCount * DType.ElementSize(info.DType);
            }
            // The tensors exactly fill the file after the header: nothing is skipped or read twice.
            long headerLength = BitConverter.ToInt64(File.ReadAllBytes(path).AsSpan(0, 8));
            Assert.Equal(new FileInfo(path).Length - 8 - headerLength, totalBytes);
        }
    }

    [Fact]
    public void SpotCheckedValuesMatchAnIndependentParse()
    {
        // Values printed by python (json + struct + torch.frombuffer) from the same files.
        using (var io = SafeTensorsFile.Open(TestPaths.GoldenFile("vit_s_to_t_mini.io.safetensors")))
        {
            Assert.Equal(new[] { "student_logits", "teacher_logits", "x" }, io.Keys);
            Assert.Equal(new long[] { 2, 3, 32, 32 }, io.GetInfo("x").Shape);
            using var x = io.Read("x");
            var v = TestFiles.Values(x);
            Assert.Equal(0.4371585547924042, v[0]);
            Assert.Equal(0.37006115913391113, v[1]);
            Assert.Equal(1.5815730094909668, v[2]);
            Assert.Equal(-1.208817958831787, v[^1]);
            Assert.Equal(61.66894249050529, v.Sum(), 6);
        }
        using (var resnet = SafeTensorsFile.Open(TestPaths.GoldenFile("resnet_basic_mini.teacher.safetensors")))
        {
            var tracked = resnet.GetInfo("bn1.num_batches_tracked");
            Assert.Equal(ScalarType.Int64, tracked.DType);
            Assert.Empty(tracked.Shape);
            using var n = resnet.Read("bn1.num_batches_tracked", ScalarType.Float32);
            Assert.Equal(ScalarType.Int64, n.dtype); // integer tensors keep their type
            Assert.Equal(0L, n.item<long>());
            using var w = resnet.Read("layer1.0.conv1.weight");
            Assert.Equal(new long[] { 16, 64, 3, 3 }, w.shape);
            var v = TestFiles.Values(w);
            Assert.Equal(-0.03633321076631546, v[0]);
            Assert.Equal(-0.25438937544822693, v[1]);
            Assert.Equal(0.005257228389382362, v[^1]);
            Assert.Equal(11.40961817081552, v.Sum(), 5);
        }
        using (var convnext = SafeTensorsFile.Open(TestPaths.GoldenFile("convnext_t_to_f_mini.teacher.safetensors")))
        {
            using var stem = convnext.Read("stem.0.weight", ScalarType.Float64);
            Assert.Equal(ScalarType.Float64, stem.dtype);
            var v = TestFiles.Values(stem);
            Assert.Equal(-0.011463979259133339, v[0]);
            Assert.Equal(0.09727361053228378, v[^1]);
        }
    }

    [Fact]
    public void GoldenFilesRoundTripBitIdenticalThroughOurWriter()
    {
        string folder = TestPaths.NewTempDirectory();
        try
        {
            foreach (var path in TestFiles.GoldenSafeTensors())
            {
                string copy = Path.Combine(folder, Path.GetFileName(path));
                using (var original = SafeTensorsFile.Open(path))
                    SafeTensorsWriter.Save(copy, original);
                using var a = SafeTensorsFile.Open(path);
                using var b = SafeTensorsFile.Open(copy);
                Assert.Equal(a.Keys, b.Keys);
                foreach (var key in a.Keys)
                {
                    using var ta = a.Read(key);
                    using var tb = b.Read(key);
                    TestFiles.AssertBitIdentical(ta, tb, $"{Path.GetFileName(path)}:{key}");
                }
            }
            Assert.Empty(Directory.EnumerateFiles(folder, "*.tmp"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

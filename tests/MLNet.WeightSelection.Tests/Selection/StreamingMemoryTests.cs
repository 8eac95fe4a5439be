using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Selection;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Selection;

/// <summary>
/// Selecting from a memory-mapped teacher reads only the slices it keeps: memory grows by about the student's size,
/// not the teacher's.
/// </summary>
/// <remarks>
/// What is measured: VmHWM counts every resident page, including the pages of the memory-mapped teacher file that
/// were read. Those are clean file pages the kernel can drop at any time, not memory the selection needs, so the
/// bound is on anonymous memory (RssAnon: heap, tensors), whose peak is sampled every millisecond. VmHWM's growth
/// minus the file pages mapped in is checked too, and all figures are printed.
/// </remarks>
[Collection(nameof(StreamingMemoryTests))] // runs alone: other tests' allocations would count as this one's
public class StreamingMemoryTests(ITestOutputHelper output)
{
    const long MB = 1 << 20;

    // ~159 MB of fp32 teacher, ~19 MB of student: the teacher is over 8x the student.
    static readonly VitSize TeacherSize = new(512, 13, 512, 2048, Tokens: 197, Patch: 16);
    static readonly VitSize StudentSize = new(256, 6, 256, 1024, Tokens: 197, Patch: 16);

    [Fact]
    public void PeakMemoryGrowsByAboutTheStudentNotTheTeacher()
    {
        Assert.True(MemoryStatus.Available, "This test reads /proc/self/status and /proc/self/clear_refs (Linux).");
        string folder = TestPaths.NewTempDirectory();
        string path = Path.Combine(folder, "teacher.safetensors");
        try
        {
            var shapes = ConsistencyPropertyTests.StudentShapes(StudentSize);
            using (var generated = new GeneratedSource(TeacherSize)) SafeTensorsWriter.Save(path, generated);
            long teacherBytes = new FileInfo(path).Length;
            long studentBytes = shapes.Values.Sum(s => s.Aggregate(4L, (a, b) => a * b));
            Assert.True(teacherBytes >= 8 * studentBytes, $"teacher {teacherBytes / MB} MB, student {studentBytes / MB} MB");

            using var teacher = SafeTensorsFile.Open(path);
            using (WeightSelector.Select(teacher, ConsistencyPropertyTests.StudentShapes(new VitSize(8, 1, 8, 8, Tokens: 197, Patch: 16)))) { } // JIT warm-up
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();

            var before = MemoryStatus.Read();
            MemoryStatus.ResetPeak();
            SelectionResult result;
            long anonymousPeak;
            using (var sampler = new AnonymousPeakSampler())
            {
                result = WeightSelector.Select(teacher, shapes);
                sampler.Dispose();
                anonymousPeak = sampler.Peak;
            }
            var after = MemoryStatus.Read();
            using (result)
            {
                long anonymousGrowth = anonymousPeak - before.Anonymous;
                long peakGrowth = after.Peak - before.Resident;
                long mappedPages = after.FileBacked - before.FileBacked;
                output.WriteLine($"teacher {teacherBytes / (double)MB:F1} MB, student {studentBytes / (double)MB:F1} MB");
                output.WriteLine($"anonymous memory (RssAnon) peak growth: {anonymousGrowth / (double)MB:F1} MB");
                output.WriteLine($"VmHWM growth: {peakGrowth / (double)MB:F1} MB, of which file-backed pages of the mapped teacher: {mappedPages / (double)MB:F1} MB");

                long bound = 2 * studentBytes + 16 * MB;
                Assert.True(anonymousGrowth <= bound,
                    $"Anonymous memory grew by {anonymousGrowth / MB} MB for a {studentBytes / MB} MB student (teacher {teacherBytes / MB} MB).");
                // The reader drops the teacher's pages from the mapping once copied out, so the whole peak counts.
                Assert.True(peakGrowth <= bound,
                    $"VmHWM grew by {peakGrowth / MB} MB ({mappedPages / MB} MB of it mapped teacher pages) for a {studentBytes / MB} MB student.");

                using var fc1 = teacher.Read("blocks.5.mlp.fc1.weight");
                using var rows = tensor(ElementSelection.UniformIndices(2048, 1024));
                using var columns = tensor(ElementSelection.UniformIndices(512, 256));
                TensorAssert.Identical(fc1.index_select(0, rows).index_select(1, columns), result.Weights["blocks.5.mlp.fc1.weight"], "fc1");
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
        Assert.False(File.Exists(path));
    }

    /// <summary>A ViT-shaped source whose tensors are generated on demand, so writing it never holds it all.</summary>
    sealed class GeneratedSource : ITensorSource
    {
        readonly Dictionary<string, long[]> _shapes;

        public GeneratedSource(VitSize size)
        {
            using var layout = TestModels.Vit(size, (_, shape) => empty(shape, ScalarType.Float32, device: META));
            _shapes = layout.Keys.ToDictionary(k => k, k => layout[k].shape);
            Keys = layout.Keys.ToArray();
        }

        public string Origin => "generated teacher";
        public IReadOnlyList<string> Keys { get; }
        public bool Contains(string key) => _shapes.ContainsKey(key);
        public TensorInfo GetInfo(string key) => new(key, ScalarType.Float32, _shapes[key]);
        public Tensor Read(string key, ScalarType? dtype = null) => TestModels.Random(17)(key, _shapes[key]);

        public Tensor ReadSelected(string key, IReadOnlyList<long[]?> indices, ScalarType? dtype = null) =>
            throw new NotSupportedException("Only written, never selected from.");

        public void Dispose() { }
    }
}

[CollectionDefinition(nameof(StreamingMemoryTests), DisableParallelization = true)]
public sealed class StreamingMemoryCollection;

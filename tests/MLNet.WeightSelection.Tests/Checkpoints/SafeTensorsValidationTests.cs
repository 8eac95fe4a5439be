using System.Buffers.Binary;
using CsCheck;
using MLNet.WeightSelection.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Checkpoints;

/// <summary>Truncated, corrupt and hostile files give an <see cref="InvalidDataException"/> naming the file and the problem.</summary>
public class SafeTensorsValidationTests : IDisposable
{
    readonly TempFolder _temp = new();
    string _folder => _temp.Path;

    public void Dispose() => _temp.Dispose();

    const string ValidHeader = """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""";
    static readonly byte[] SixteenBytes = new byte[16];

    InvalidDataException OpenFails(string name, byte[] content)
    {
        string path = Path.Combine(_folder, $"{name}.safetensors");
        File.WriteAllBytes(path, content);
        var ex = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Contains(path, ex.Message);
        return ex;
    }

    public static TheoryData<string, string, string> BadHeaders => new()
    {
        { "invalid-json", """{"w": {"dtype": "F32", """, "not valid JSON" },
        { "array-root", "[1, 2, 3]", "not an object" },
        { "entry-not-object", """{"w": 3}""", "tensor 'w' is a JSON Number" },
        { "missing-dtype", """{"w":{"shape":[2,2],"data_offsets":[0,16]}}""", "tensor 'w' has no dtype" },
        { "unknown-dtype", """{"w":{"dtype":"Q7","shape":[2,2],"data_offsets":[0,16]}}""", "tensor 'w' has unknown or unsupported dtype 'Q7'" },
        { "fp8-dtype", """{"w":{"dtype":"F8_E4M3","shape":[16],"data_offsets":[0,16]}}""", "unsupported dtype 'F8_E4M3'" },
        { "missing-shape", """{"w":{"dtype":"F32","data_offsets":[0,16]}}""", "tensor 'w' has no shape" },
        { "negative-dim", """{"w":{"dtype":"F32","shape":[-2,-2],"data_offsets":[0,16]}}""", "tensor 'w' has a negative dimension -2" },
        { "fractional-dim", """{"w":{"dtype":"F32","shape":[2.5,2],"data_offsets":[0,16]}}""", "not an integer" },
        { "missing-offsets", """{"w":{"dtype":"F32","shape":[2,2]}}""", "tensor 'w' has no data_offsets" },
        { "three-offsets", """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8,16]}}""", "tensor 'w' has no data_offsets pair" },
        { "negative-offset", """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[-16,0]}}""", "not a non-negative integer" },
        { "offsets-outside", """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[4096,4112]}}""", "beyond the 16-byte data section" },
        { "begin-after-end", """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[16,0]}}""", "begin after end" },
        { "size-mismatch", """{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}""", "needs 12 bytes, but its data_offsets [0, 16] span 16" },
        { "dtype-mismatch", """{"w":{"dtype":"F64","shape":[2,2],"data_offsets":[0,16]}}""", "needs 32 bytes" },
        { "overflowing-shape", """{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}}""", "overflows" },
        { "overlap", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[3],"data_offsets":[4,16]}}""", "'a' [0, 8] and 'b' [4, 16] overlap; 'b' must start at 8" },
        // The reference reader's rule: in offset order the tensors tile the data section, from 0 to its last byte.
        { "gap", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", "tensor 'b' [8, 16] must start at 4, where 'a' [0, 4] ends: the 4 bytes between them belong to no tensor" },
        { "gap-in-header-order", """{"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", "tensor 'b' [8, 16] must start at 4, where 'a' [0, 4] ends" },
        { "bytes-before-the-first", """{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", "tensor 'w' [8, 16] comes first in the data section but starts at 8, not 0" },
        { "trailing-bytes", """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "the data section holds 16 bytes, but its last tensor 'w' [0, 8] ends at 8: the 8 bytes after it belong to no tensor" },
        { "no-tensors-but-data", """{"__metadata__":{"format":"pt"}}""", "the header lists no tensors, but the data section holds 16 bytes" },
        { "same-range-twice", """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"I32","shape":[4],"data_offsets":[0,16]}}""", "'a' [0, 16] and 'b' [0, 16] overlap" },
        { "repeated-field", """{"w":{"dtype":"F32","dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""", "tensor 'w' lists 'dtype' twice" },
        { "metadata-twice", """{"__metadata__":{},"__metadata__":{},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""", "lists '__metadata__' twice" },
        { "trailing-garbage", """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}} x""", "not valid JSON" },
        { "nested-offsets", """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[[0],16]}}""", "a data offset an array that is not" },
        { "duplicate-key", """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", "lists 'w' twice" },
        { "metadata-not-strings", """{"__metadata__":{"epoch":3},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""", "metadata 'epoch'" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void BadHeadersAreRejected(string name, string header, string problem)
    {
        var ex = OpenFails(name, TestFiles.RawSafeTensors(header, SixteenBytes));
        Assert.Contains(problem, ex.Message);
    }

    [Fact]
    public void EveryRefusalIsOneLine()
    {
        foreach (var row in BadHeaders)
        {
            var ex = OpenFails((string)row[0] + "-line", TestFiles.RawSafeTensors((string)row[1], SixteenBytes));
            Assert.DoesNotContain('\n', ex.Message);
        }
    }

    public static TheoryData<string, string, int> TilingHeaders => new()
    {
        // Header order need not be data order; the reference writer sorts the data by dtype width.
        { "header-order-differs", """{"small":{"dtype":"F16","shape":[4],"data_offsets":[8,16]},"big":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}""", 16 },
        // An empty tensor sorts before a full one at the same offset, and at the very end of the data section.
        { "empty-tensors", """{"e0":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"e1":{"dtype":"U8","shape":[0,3],"data_offsets":[16,16]}}""", 16 },
        { "no-tensors-no-data", """{"__metadata__":{"format":"pt"}}""", 0 },
        { "unknown-fields-ignored", """{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"note":{"x":[1,2]}}}""", 16 },
        { "null-metadata", """{"__metadata__":null,"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 16 },
    };

    [Theory]
    [MemberData(nameof(TilingHeaders))]
    public void OffsetsThatTileTheDataSectionOpen(string name, string header, int dataBytes)
    {
        string path = Path.Combine(_folder, $"{name}.safetensors");
        File.WriteAllBytes(path, TestFiles.RawSafeTensors(header, new byte[dataBytes]));
        using var file = SafeTensorsFile.Open(path);
        foreach (var key in file.Keys)
        {
            using var t = file.Read(key);
            Assert.Equal(file.GetInfo(key).Shape, t.shape);
        }
    }

    [Fact]
    public void EscapedNamesAreUnescapedAndShapesKeptPerTensor()
    {
        string path = Path.Combine(_folder, "escaped.safetensors");
        const string header = """{"a\u002eb":{"dtype":"I64","shape":[1,2],"data_offsets":[0,16]},"\u00e9":{"dtype":"BF16","shape":[],"data_offsets":[16,18]},"c":{"dtype":"BOOL","shape":[2,1,1],"data_offsets":[18,20]}}""";
        File.WriteAllBytes(path, TestFiles.RawSafeTensors(header, new byte[20]));
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(new[] { "a.b", "é", "c" }, file.Keys);
        Assert.Equal(new long[] { 1, 2 }, file.GetInfo("a.b").Shape);
        Assert.Equal(ScalarType.Int64, file.GetInfo("a.b").DType);
        Assert.Empty(file.GetInfo("é").Shape);
        Assert.Equal(ScalarType.BFloat16, file.GetInfo("é").DType);
        Assert.Equal(new long[] { 2, 1, 1 }, file.GetInfo("c").Shape);
        Assert.True(file.Contains("é"));
        Assert.False(file.Contains("a\\u002eb"));
    }

    [Fact]
    public void HeaderThatIsNotUtf8()
    {
        var content = TestFiles.RawSafeTensors("{\"w\":{}}", SixteenBytes);
        content[10] = 0xFF; // inside the key
        var ex = OpenFails("not-utf8", content);
        Assert.Contains("not valid UTF-8", ex.Message);
        Assert.Contains("first bad byte is at offset 10 of the file", ex.Message);
    }

    [Fact]
    public void FileShorterThanTheLengthField()
    {
        var ex = OpenFails("short", new byte[] { 1, 2, 3, 4, 5 });
        Assert.Contains("shorter than the 8-byte header length", ex.Message);
    }

    [Fact]
    public void EmptyFile() => Assert.Contains("is 0 bytes", OpenFails("empty", Array.Empty<byte>()).Message);

    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL)]
    public void HeaderLengthTooSmall(ulong length)
    {
        var ex = OpenFails($"len{length}", TestFiles.RawSafeTensors(ValidHeader, SixteenBytes, length));
        Assert.Contains($"header length is {length}", ex.Message);
    }

    [Fact]
    public void HeaderLengthBeyondTheFile()
    {
        var content = TestFiles.RawSafeTensors(ValidHeader, SixteenBytes, (ulong)(ValidHeader.Length + 17));
        Assert.Contains("exceeds the", OpenFails("beyond", content).Message);
    }

    [Fact]
    public void HugeHeaderLengthIsRejectedWithoutAllocating()
    {
        var content = TestFiles.RawSafeTensors(ValidHeader, SixteenBytes, 1UL << 62);
        string path = Path.Combine(_folder, "huge.safetensors");
        File.WriteAllBytes(path, content);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("4611686018427387904", ex.Message);
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public void HeaderLengthAboveTheCapIsRejectedEvenWhenTheFileIsThatLarge()
    {
        // A sparse file: 120 MB long without using the disk space.
        string path = Path.Combine(_folder, "cap.safetensors");
        using (var stream = File.Create(path))
        {
            var prefix = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, 110_000_000);
            stream.Write(prefix);
            stream.SetLength(120_000_000);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.Contains("exceeds the limit", ex.Message);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void TruncatedDataSection()
    {
        var content = TestFiles.RawSafeTensors(ValidHeader, SixteenBytes);
        var ex = OpenFails("truncated", content[..^5]);
        Assert.Contains("tensor 'w'", ex.Message);
        Assert.Contains("beyond the 11-byte data section", ex.Message);
    }

    [Fact]
    public void MissingFileNamesThePath()
    {
        string path = Path.Combine(_folder, "absent.safetensors");
        var ex = Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Open(path));
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void AMinimalValidFileOpens()
    {
        string path = Path.Combine(_folder, "ok.safetensors");
        var data = new byte[16];
        BitConverter.GetBytes(1.5f).CopyTo(data, 4);
        File.WriteAllBytes(path, TestFiles.RawSafeTensors(ValidHeader + "   ", data));
        using var file = SafeTensorsFile.Open(path);
        using var w = file.Read("w");
        Assert.Equal(new double[] { 0, 1.5, 0, 0 }, TestFiles.Values(w));
        Assert.Empty(file.Metadata);
        var missing = Assert.Throws<KeyNotFoundException>(() => file.Read("v"));
        Assert.Contains("'v'", missing.Message);
        Assert.Contains(path, missing.Message);
    }

    [Fact]
    public void RandomCorruptionsEitherLoadOrThrowInvalidData()
    {
        string validPath = Path.Combine(_folder, "valid.safetensors");
        using (var a = arange(24, ScalarType.Float32).reshape(2, 3, 4))
        using (var b = tensor(new[] { 1L, -2L, 3L }))
        using (var c = arange(6, ScalarType.Float32).to_type(ScalarType.BFloat16))
        using (var d = tensor(new[] { true, false }))
            SafeTensorsWriter.Save(validPath, new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b, ["c"] = c, ["d"] = d },
                new Dictionary<string, string> { ["format"] = "pt" });
        byte[] valid = File.ReadAllBytes(validPath);
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(valid);

        // Most changes land in the length field and the header, where parsing can go wrong; some only in the data
        // section, which the reader must load as it is (without them, strict validation would leave so few files
        // loadable that a run of 400 could see none, and the check below would fail by chance).
        var position = Gen.Frequency((3, Gen.Int[0, headerEnd - 1]), (2, Gen.Int[headerEnd, valid.Length - 1]), (1, Gen.Int[0, valid.Length - 1]));
        var edit = Gen.Select(position, Gen.Byte);
        var corruption = Gen.Select(edit.Array[1, 6], Gen.Int[0, valid.Length].Nullable(0.5));
        int loaded = 0, rejected = 0;
        corruption.Sample((edits, truncateAt) =>
        {
            var bytes = (byte[])valid.Clone();
            foreach (var (at, value) in edits) bytes[at] = value;
            if (truncateAt is { } n) bytes = bytes[..n];
            string path = Path.Combine(_folder, $"corrupt-{Guid.NewGuid():N}.safetensors");
            File.WriteAllBytes(path, bytes);
            try
            {
                using var file = SafeTensorsFile.Open(path);
                foreach (var key in file.Keys)
                {
                    using var t = file.Read(key, ScalarType.Float32);
                    var info = file.GetInfo(key);
                    if (info.Shape.Length > 0 && info.Shape[0] > 0)
                    {
                        var indices = new long[]?[info.Shape.Length];
                        indices[0] = new[] { info.Shape[0] - 1, 0 };
                        using var s = file.ReadSelected(key, indices);
                    }
                }
                Interlocked.Increment(ref loaded);
            }
            catch (InvalidDataException e)
            {
                Assert.Contains(path, e.Message);
                Interlocked.Increment(ref rejected);
            }
            finally
            {
                File.Delete(path);
            }
        }, iter: 400, threads: 1);
        Assert.True(rejected > 0 && loaded > 0, $"loaded {loaded}, rejected {rejected}");
    }
}

using System.Buffers.Binary;
using System.Text.Json;
using MLNet.WeightSelection.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Checkpoints;

public class SafeTensorsWriterTests : IDisposable
{
    readonly TempFolder _temp = new();
    string _folder => _temp.Path;

    public void Dispose() => _temp.Dispose();

    static Tensor Sample(ScalarType type) => type switch
    {
        ScalarType.Bool => tensor(new[] { true, false, true, true, false, false }).reshape(2, 3),
        ScalarType.Byte => tensor(new byte[] { 0, 1, 127, 128, 254, 255 }).reshape(3, 2),
        ScalarType.Int8 => tensor(new sbyte[] { -128, -1, 0, 1, 127 }),
        ScalarType.Int16 => tensor(new short[] { short.MinValue, -1, 0, short.MaxValue }),
        ScalarType.Int32 => tensor(new[] { int.MinValue, -7, 0, 42, int.MaxValue }),
        ScalarType.Int64 => tensor(new[] { long.MinValue, -3L, 0L, 1L << 40, long.MaxValue }),
        ScalarType.Float64 => tensor(new[] { -1.5e300, -0.1, 0.0, 1.0 / 3, double.Epsilon }).reshape(5, 1),
        _ => tensor(new[] { -2.5f, -0.1f, 0f, 0.333f, 1000f, 65504f }).reshape(1, 2, 3).to_type(type),
    };

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.Int64)]
    [InlineData(ScalarType.Int32)]
    [InlineData(ScalarType.Int16)]
    [InlineData(ScalarType.Int8)]
    [InlineData(ScalarType.Byte)]
    [InlineData(ScalarType.Bool)]
    public void EachDTypeRoundTripsBitIdentical(ScalarType type)
    {
        string path = Path.Combine(_folder, $"{type}.safetensors");
        using var t = Sample(type);
        using var scalar = Sample(type).reshape(-1)[1];
        SafeTensorsWriter.Save(path, new Dictionary<string, Tensor> { ["t"] = t, ["scalar"] = scalar });
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(new[] { "t", "scalar" }, file.Keys);
        Assert.Equal(type, file.GetInfo("t").DType);
        Assert.Equal(t.shape, file.GetInfo("t").Shape);
        Assert.Empty(file.GetInfo("scalar").Shape);
        using var back = file.Read("t");
        TestFiles.AssertBitIdentical(t, back, type.ToString());
        using var backScalar = file.Read("scalar");
        TestFiles.AssertBitIdentical(scalar, backScalar, $"{type} scalar");
    }

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float64)]
    public void FloatingTensorsConvertToTheRequestedType(ScalarType stored)
    {
        string path = Path.Combine(_folder, "f.safetensors");
        using var t = Sample(stored);
        SafeTensorsWriter.Save(path, new[] { KeyValuePair.Create("w", t) });
        using var file = SafeTensorsFile.Open(path);
        using var read = file.Read("w", ScalarType.Float32);
        Assert.Equal(ScalarType.Float32, read.dtype);
        using var expected = t.to_type(ScalarType.Float32);
        Assert.Equal(TestFiles.Values(expected), TestFiles.Values(read));
        using var selected = file.ReadSelected("w", new long[]?[] { null, null, new long[] { 2, 0 } }.Take((int)t.dim()).ToArray(), ScalarType.Float32);
        Assert.Equal(ScalarType.Float32, selected.dtype);
    }

    [Fact]
    public void IntegerAndBoolTensorsKeepTheirTypeWhenAFloatTypeIsRequested()
    {
        string path = Path.Combine(_folder, "i.safetensors");
        using var i = Sample(ScalarType.Int32);
        using var b = Sample(ScalarType.Bool);
        SafeTensorsWriter.Save(path, new Dictionary<string, Tensor> { ["i"] = i, ["b"] = b });
        using var file = SafeTensorsFile.Open(path);
        using var ri = file.Read("i", ScalarType.Float32);
        using var rb = file.Read("b", ScalarType.Float32);
        TestFiles.AssertBitIdentical(i, ri, "int32");
        TestFiles.AssertBitIdentical(b, rb, "bool");
    }

    [Fact]
    public void LayoutIsWhatThePythonReaderRequires()
    {
        // Python's safetensors requires: 8-byte length, JSON header, data offsets contiguous from 0 to the end of
        // the file; PyTorch views need each tensor aligned to its element size.
        string path = Path.Combine(_folder, "layout.safetensors");
        using var a = tensor(new byte[] { 1, 2, 3 });
        using var b = tensor(new[] { 1L, 2L });
        using var c = tensor(new[] { 0.5f, 1.5f, 2.5f });
        using var d = tensor(new[] { 1.0, 2.0 }).to_type(ScalarType.Float16);
        using var e = tensor(new[] { 7.0 });
        var meta = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "weight selection: <teacher> & \"student\"" };
        SafeTensorsWriter.Save(path, new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b, ["c"] = c, ["d"] = d, ["e"] = e }, meta);

        var bytes = File.ReadAllBytes(path);
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        Assert.Equal((byte)'{', bytes[8]);
        using var json = JsonDocument.Parse(bytes.AsMemory(8, (int)n));
        var root = json.RootElement;
        Assert.Equal(new[] { "__metadata__", "a", "b", "c", "d", "e" }, root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("pt", root.GetProperty("__metadata__").GetProperty("format").GetString());
        var spans = root.EnumerateObject().Where(p => p.Name != "__metadata__").Select(p =>
        {
            var o = p.Value.GetProperty("data_offsets");
            long size = DType.ElementSize(DType.FromSafeTensors(p.Value.GetProperty("dtype").GetString()!));
            return (Name: p.Name, Begin: o[0].GetInt64(), End: o[1].GetInt64(), Size: size);
        }).OrderBy(s => s.Begin).ToList();
        long position = 0;
        foreach (var s in spans)
        {
            Assert.Equal(position, s.Begin);
            Assert.Equal(0, s.Begin % s.Size);
            position = s.End;
        }
        Assert.Equal(bytes.Length - 8 - n, position);
        // Wider types first, in the given order within a width.
        Assert.Equal(new[] { "b", "e", "c", "d", "a" }, spans.Select(s => s.Name));

        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(meta, file.Metadata);
        Assert.Equal(new[] { "a", "b", "c", "d", "e" }, file.Keys);
    }

    [Fact]
    public void NonContiguousTensorsAreWrittenAsTheirLogicalValues()
    {
        string path = Path.Combine(_folder, "t.safetensors");
        using var m = arange(12, ScalarType.Float32).reshape(3, 4);
        using var transposed = m.t();
        using var column = m.select(1, 1);
        Assert.False(transposed.is_contiguous());
        SafeTensorsWriter.Save(path, new Dictionary<string, Tensor> { ["t"] = transposed, ["col"] = column });
        using var file = SafeTensorsFile.Open(path);
        using var t = file.Read("t");
        Assert.Equal(new long[] { 4, 3 }, t.shape);
        Assert.Equal(new double[] { 0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11 }, TestFiles.Values(t));
        using var col = file.Read("col");
        Assert.Equal(new double[] { 1, 5, 9 }, TestFiles.Values(col));
    }

    [Fact]
    public void DuplicateKeysAreRejectedAndNothingIsWritten()
    {
        string path = Path.Combine(_folder, "dup.safetensors");
        using var a = ones(2);
        var ex = Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Save(path,
            new[] { KeyValuePair.Create("w", a), KeyValuePair.Create("w", a) }));
        Assert.Contains("'w'", ex.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_folder));
    }

    [Fact]
    public void UnsupportedElementTypeIsRejected()
    {
        string path = Path.Combine(_folder, "c.safetensors");
        using var c = ones(2, ScalarType.ComplexFloat32);
        var ex = Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Save(path, new[] { KeyValuePair.Create("z", c) }));
        Assert.Contains("'z'", ex.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_folder));
    }

    [Fact]
    public void AnEnumeratorThatThrowsMidwayLeavesNoFile()
    {
        string path = Path.Combine(_folder, "fail.safetensors");
        using var a = ones(4);
        IEnumerable<KeyValuePair<string, Tensor>> Failing()
        {
            yield return KeyValuePair.Create("a", a);
            throw new InvalidOperationException("source broke");
        }
        Assert.Throws<InvalidOperationException>(() => SafeTensorsWriter.Save(path, Failing()));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_folder));
    }

    [Fact]
    public void ASourceThatFailsWhileDataIsBeingWrittenLeavesNoFileAndKeepsTheOldOne()
    {
        string path = Path.Combine(_folder, "model.safetensors");
        using var old = full(3, 1f);
        SafeTensorsWriter.Save(path, new[] { KeyValuePair.Create("old", old) });
        byte[] before = File.ReadAllBytes(path);

        using var source = new FailingSource(failAt: 2);
        var ex = Assert.Throws<IOException>(() => SafeTensorsWriter.Save(path, source));
        Assert.Equal("disk pulled", ex.Message);
        Assert.True(source.Reads >= 2, "the failure happened after data writing started");
        Assert.Equal(new[] { path }, Directory.EnumerateFileSystemEntries(_folder));
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void OverwritesAnExistingFileEvenWhileItIsOpen()
    {
        string path = Path.Combine(_folder, "w.safetensors");
        using var first = full(2, 1f);
        using var second = full(5, 2f);
        SafeTensorsWriter.Save(path, new[] { KeyValuePair.Create("w", first) });
        using var open = SafeTensorsFile.Open(path);
        SafeTensorsWriter.Save(path, new[] { KeyValuePair.Create("w", second) });
        using var stillOld = open.Read("w");
        Assert.Equal(new double[] { 1, 1 }, TestFiles.Values(stillOld));
        using var reopened = SafeTensorsFile.Open(path);
        using var now = reopened.Read("w");
        Assert.Equal(new double[] { 2, 2, 2, 2, 2 }, TestFiles.Values(now));
    }

    /// <summary>A source of four tensors whose <see cref="Read"/> fails on the given call.</summary>
    sealed class FailingSource : ITensorSource
    {
        readonly StateDict _inner = new("failing source");
        readonly int _failAt;

        public FailingSource(int failAt)
        {
            _failAt = failAt;
            for (int i = 0; i < 4; i++) _inner.Add($"t{i}", full(1000, (float)i));
        }

        public int Reads { get; private set; }
        public string Origin => _inner.Origin;
        public IReadOnlyList<string> Keys => _inner.Keys;
        public bool Contains(string key) => _inner.Contains(key);
        public TensorInfo GetInfo(string key) => _inner.GetInfo(key);

        public Tensor Read(string key, ScalarType? dtype = null)
        {
            if (++Reads == _failAt) throw new IOException("disk pulled");
            return _inner.Read(key, dtype);
        }

        public Tensor ReadSelected(string key, IReadOnlyList<long[]?> indices, ScalarType? dtype = null) =>
            _inner.ReadSelected(key, indices, dtype);

        public void Dispose() => _inner.Dispose();
    }
}

using CsCheck;
using MLNet.WeightSelection.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Checkpoints;

public class ReadSelectedTests : IDisposable
{
    readonly TempFolder _temp = new();
    string _folder => _temp.Path;

    public void Dispose() => _temp.Dispose();

    static readonly ScalarType[] Types = { ScalarType.Float32, ScalarType.Float16, ScalarType.Int64, ScalarType.Bool };

    [Fact]
    public void SelectionEqualsFullReadThenIndexSelect()
    {
        var gen = Gen.Int[1, 4].SelectMany(rank => Gen.Select(
            Gen.Int[0, 5].Array[rank],              // shape (0 allowed)
            Gen.Int[0, 999].Array[0, 7].Array[rank], // raw indices, reduced modulo each axis
            Gen.Bool.Array[rank],                    // true keeps the whole axis
            Gen.Int[0, Types.Length - 1]));
        gen.Sample((dims, raw, whole, typeIndex) =>
        {
            long[] shape = dims.Select(d => (long)d).ToArray();
            var indices = new long[]?[shape.Length];
            for (int axis = 0; axis < shape.Length; axis++)
                indices[axis] = whole[axis] ? null
                    : shape[axis] == 0 ? Array.Empty<long>() : raw[axis].Select(i => i % shape[axis]).ToArray();
            var type = Types[typeIndex];

            using var scope = NewDisposeScope();
            long count = shape.Aggregate(1L, (a, b) => a * b);
            var values = type == ScalarType.Bool
                ? arange(count, ScalarType.Int64).remainder(3).eq(0).reshape(shape)
                : arange(count, ScalarType.Float32).mul(0.5).reshape(shape).to_type(type);
            string path = Path.Combine(_folder, $"{Guid.NewGuid():N}.safetensors");
            SafeTensorsWriter.Save(path, new[] { KeyValuePair.Create("t", values) });
            try
            {
                using var file = SafeTensorsFile.Open(path);
                var expected = file.Read("t");
                for (int axis = 0; axis < shape.Length; axis++)
                    if (indices[axis] is { } idx) expected = expected.index_select(axis, tensor(idx, ScalarType.Int64));
                var actual = file.ReadSelected("t", indices);
                TestFiles.AssertBitIdentical(expected, actual, $"{type} [{string.Join(", ", shape)}]");
                using var inMemory = new StateDict();
                inMemory.Add("t", values.clone());
                TestFiles.AssertBitIdentical(expected, inMemory.ReadSelected("t", indices), "StateDict");
            }
            finally
            {
                File.Delete(path);
            }
        }, iter: 150, threads: 1);
    }

    [Fact]
    public void ScalarsAndConversion()
    {
        string path = Path.Combine(_folder, "s.safetensors");
        using var s = tensor(2.5).to_type(ScalarType.Float16);
        using var m = arange(12, ScalarType.Float64).reshape(3, 4);
        SafeTensorsWriter.Save(path, new Dictionary<string, Tensor> { ["s"] = s, ["m"] = m });
        using var file = SafeTensorsFile.Open(path);
        using var scalar = file.ReadSelected("s", Array.Empty<long[]?>(), ScalarType.Float32);
        Assert.Equal(ScalarType.Float32, scalar.dtype);
        Assert.Equal(2.5f, scalar.item<float>());
        using var sel = file.ReadSelected("m", new long[]?[] { new long[] { 2, 0 }, new long[] { 3, 1 } }, ScalarType.Float32);
        Assert.Equal(ScalarType.Float32, sel.dtype);
        Assert.Equal(new double[] { 11, 9, 3, 1 }, TestFiles.Values(sel));
    }

    [Fact]
    public void BadIndicesGiveClearErrors()
    {
        string path = Path.Combine(_folder, "m.safetensors");
        using var m = zeros(3, 4);
        SafeTensorsWriter.Save(path, new[] { KeyValuePair.Create("blocks.0.mlp.fc1.weight", m) });
        using var file = SafeTensorsFile.Open(path);
        var count = Assert.Throws<ArgumentException>(() => file.ReadSelected("blocks.0.mlp.fc1.weight", new long[]?[] { null }));
        Assert.Contains("'blocks.0.mlp.fc1.weight' has 2 axes", count.Message);
        Assert.Contains("1 index lists", count.Message);
        var range = Assert.Throws<ArgumentOutOfRangeException>(() =>
            file.ReadSelected("blocks.0.mlp.fc1.weight", new long[]?[] { new long[] { 0, 3 }, null }));
        Assert.Contains("index 3 on axis 0", range.Message);
        Assert.Contains("[0, 3)", range.Message);
        var negative = Assert.Throws<ArgumentOutOfRangeException>(() =>
            file.ReadSelected("blocks.0.mlp.fc1.weight", new long[]?[] { null, new long[] { -1 } }));
        Assert.Contains("index -1 on axis 1", negative.Message);
        Assert.Throws<KeyNotFoundException>(() => file.ReadSelected("nope", new long[]?[] { null, null }));
    }

    [Fact]
    public void ReadsRunInParallelAndDisposeEndsAccess()
    {
        string path = Path.Combine(_folder, "p.safetensors");
        using (var m = arange(64 * 32, ScalarType.Float32).reshape(64, 32))
            SafeTensorsWriter.Save(path, new[] { KeyValuePair.Create("m", m) });
        var file = SafeTensorsFile.Open(path);
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 4 }, row =>
        {
            using var t = file.ReadSelected("m", new long[]?[] { new long[] { row }, new long[] { 0, 31 } });
            Assert.Equal(new double[] { row * 32, row * 32 + 31 }, TestFiles.Values(t));
        });
        if (OperatingSystem.IsLinux()) Assert.Contains(path, File.ReadAllText("/proc/self/maps"));
        file.Dispose();
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.Read("m"));
        // Dispose unmaps the file and closes it.
        if (OperatingSystem.IsLinux()) Assert.DoesNotContain(path, File.ReadAllText("/proc/self/maps"));
        using (new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) { }
    }
}

using System.Text.Json;
using MLNet.WeightSelection.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Checkpoints;

/// <summary>Reads checkpoints written by real PyTorch 1.13 (Fixtures/make_fixtures.py) and checks exact values.</summary>
public class PyTorchCheckpointTests : IDisposable
{
    readonly TempFolder _temp = new();
    string _folder => _temp.Path;

    public void Dispose() => _temp.Dispose();

    sealed record Expected(string DType, long[] Shape, double[] Values);

    static List<(string Key, Expected Value)> ExpectedDict(string name)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(TestFiles.Fixture("expected.json")));
        return json.RootElement.GetProperty(name).EnumerateObject().Select(p => (p.Name, new Expected(
            p.Value.GetProperty("dtype").GetString()!,
            p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(),
            p.Value.GetProperty("values").EnumerateArray().Select(e =>
                e.ValueKind is JsonValueKind.True or JsonValueKind.False ? (e.GetBoolean() ? 1.0 : 0.0) : e.GetDouble()).ToArray())))
            .ToList();
    }

    static readonly Dictionary<string, ScalarType> TorchTypes = new()
    {
        ["float32"] = ScalarType.Float32, ["float16"] = ScalarType.Float16, ["bfloat16"] = ScalarType.BFloat16,
        ["int64"] = ScalarType.Int64, ["int32"] = ScalarType.Int32, ["bool"] = ScalarType.Bool,
    };

    static void AssertMatches(List<(string Key, Expected Value)> expected, StateDict actual)
    {
        Assert.Equal(expected.Select(e => e.Key), actual.Keys); // torch's OrderedDict order is kept
        foreach (var (key, e) in expected)
        {
            var t = actual[key];
            Assert.Equal(TorchTypes[e.DType], t.dtype);
            Assert.Equal(e.Shape, t.shape);
            Assert.Equal(e.Values, TestFiles.Values(t));
        }
    }

    [Fact]
    public void PlainStateDictHasExactValuesTypesAndOrder()
    {
        using var sd = PyTorchCheckpoint.Load(TestFiles.Fixture("plain.pt"));
        AssertMatches(ExpectedDict("state_dict"), sd);
        Assert.Equal(Path.GetFullPath(TestFiles.Fixture("plain.pt")), sd.Origin);
        Assert.Equal(7L, sd["bn.num_batches_tracked"].item<long>());
        Assert.Empty(sd["bn.num_batches_tracked"].shape);
    }

    [Fact]
    public void ModelEntryIsChosenOverModelEma()
    {
        using var sd = PyTorchCheckpoint.Load(TestFiles.Fixture("wrapped_model.pt"));
        AssertMatches(ExpectedDict("state_dict"), sd);
    }

    [Fact]
    public void StateDictEntryIsUnwrappedAndModulePrefixStripped()
    {
        using var sd = PyTorchCheckpoint.Load(TestFiles.Fixture("wrapped_state_dict_module.pth"));
        AssertMatches(ExpectedDict("state_dict"), sd);
    }

    [Fact]
    public void EmaOnlyIsNotChosenSilentlyButCanBeAskedFor()
    {
        string path = Path.GetFullPath(TestFiles.Fixture("ema_only.pt"));
        var ex = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("'model_ema'", ex.Message);
        Assert.Contains("'model', 'state_dict', 'module'", ex.Message);
        using var ema = PyTorchCheckpoint.Load(path, entry: "model_ema");
        AssertMatches(ExpectedDict("model_ema"), ema);
        var missing = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(path, entry: "teacher"));
        Assert.Contains("no dict entry 'teacher'", missing.Message);
    }

    [Fact]
    public void LegacyFormatGetsAClearMessage()
    {
        string path = Path.GetFullPath(TestFiles.Fixture("legacy.pt"));
        var ex = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("legacy format", ex.Message);
    }

    [Fact]
    public void NonCheckpointsAndCorruptArchivesGiveInvalidData()
    {
        string text = Path.Combine(_folder, "notes.pt");
        File.WriteAllText(text, "not a checkpoint");
        var ex = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(text));
        Assert.Contains(text, ex.Message);
        Assert.Contains("not a zip archive", ex.Message);

        var bytes = File.ReadAllBytes(TestFiles.Fixture("plain.pt"));
        string truncated = Path.Combine(_folder, "truncated.pt");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        ex = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(truncated));
        Assert.Contains(truncated, ex.Message);

        string empty = Path.Combine(_folder, "empty.pth");
        File.WriteAllBytes(empty, Array.Empty<byte>());
        ex = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(empty));
        Assert.Contains(empty, ex.Message);

        string missing = Path.Combine(_folder, "missing.pt");
        var notFound = Assert.Throws<FileNotFoundException>(() => PyTorchCheckpoint.Load(missing));
        Assert.Contains(missing, notFound.Message);
    }

    [Fact]
    public void SaveThenLoadRoundTripsEveryTensor()
    {
        using var original = PyTorchCheckpoint.Load(TestFiles.Fixture("plain.pt"));
        using var transposed = arange(6, ScalarType.Float32).reshape(2, 3).t();
        using var offsetView = arange(10, ScalarType.Int64).narrow(0, 4, 3);
        var tensors = original.Concat(new[] { KeyValuePair.Create("view.t", transposed), KeyValuePair.Create("view.offset", offsetView) }).ToList();
        string path = Path.Combine(_folder, "out.pt");
        PyTorchCheckpoint.Save(path, tensors);
        Assert.Equal(new[] { path }, Directory.EnumerateFileSystemEntries(_folder));
        using var back = PyTorchCheckpoint.Load(path);
        // Save writes a plain dict (PyTorch keeps its order); read back here, a plain dict's keys come sorted.
        Assert.Equal(tensors.Select(t => t.Key).Order(StringComparer.Ordinal), back.Keys);
        foreach (var (key, t) in tensors) TestFiles.AssertBitIdentical(t, back[key], key);
        Assert.Equal(new double[] { 0, 3, 1, 4, 2, 5 }, TestFiles.Values(back["view.t"]));
        Assert.Equal(new double[] { 4, 5, 6 }, TestFiles.Values(back["view.offset"]));
    }

    [Fact]
    public void DataParallelPrefixIsStrippedAndCollisionsAreReported()
    {
        using var a = ones(2);
        using var b = zeros(3);
        string parallel = Path.Combine(_folder, "parallel.pt");
        PyTorchCheckpoint.Save(parallel, new[] { KeyValuePair.Create("module.fc.weight", a), KeyValuePair.Create("module.fc.bias", b) });
        using (var sd = PyTorchCheckpoint.Load(parallel))
            Assert.Equal(new[] { "fc.bias", "fc.weight" }, sd.Keys);

        string both = Path.Combine(_folder, "both.pt");
        PyTorchCheckpoint.Save(both, new[] { KeyValuePair.Create("module.fc.weight", a), KeyValuePair.Create("fc.weight", a) });
        var ex = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(both));
        Assert.Contains(both, ex.Message);
        Assert.Contains("'fc.weight' appears both with and without the 'module.' prefix", ex.Message);
    }

    [Fact]
    public void SaveRejectsDuplicateKeysAndLeavesNoFile()
    {
        using var a = ones(2);
        string path = Path.Combine(_folder, "dup.pt");
        Assert.Throws<ArgumentException>(() => PyTorchCheckpoint.Save(path, new[] { KeyValuePair.Create("a", a), KeyValuePair.Create("a", a) }));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_folder));
    }
}

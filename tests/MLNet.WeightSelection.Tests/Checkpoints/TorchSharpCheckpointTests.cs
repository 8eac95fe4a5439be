using MLNet.WeightSelection.Checkpoints;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Checkpoints;

public class TorchSharpCheckpointTests : IDisposable
{
    readonly TempFolder _temp = new();
    string _folder => _temp.Path;

    public void Dispose() => _temp.Dispose();

    sealed class Tiny : nn.Module<Tensor, Tensor>
    {
        readonly TorchSharp.Modules.Linear fc1;
        readonly TorchSharp.Modules.BatchNorm1d norm;
        readonly TorchSharp.Modules.Linear head;

        public Tiny(int seed) : base(nameof(Tiny))
        {
            manual_seed(seed);
            fc1 = nn.Linear(5, 4);
            norm = nn.BatchNorm1d(4);
            head = nn.Linear(4, 3);
            RegisterComponents();
            using (no_grad())
            {
                norm.running_mean!.copy_(tensor(new[] { 0.1f, -0.2f, 0.3f, -0.4f }));
                norm.num_batches_tracked!.fill_(11);
            }
        }

        public override Tensor forward(Tensor x) => head.forward(norm.forward(fc1.forward(x)));
    }

    [Fact]
    public void ReadsWhatModuleSaveWrites()
    {
        string path = Path.Combine(_folder, "tiny.dat");
        using var module = new Tiny(1);
        module.save(path);
        using var sd = TorchSharpCheckpoint.Load(path);
        var expected = module.state_dict();
        Assert.Equal(expected.Keys, sd.Keys);
        foreach (var (key, t) in expected) TestFiles.AssertBitIdentical(t, sd[key], key);
        Assert.Equal(11L, sd["norm.num_batches_tracked"].item<long>());
        Assert.Equal(ScalarType.Int64, sd["norm.num_batches_tracked"].dtype);
    }

    [Fact]
    public void ModuleLoadReadsWhatWeWrite()
    {
        string path = Path.Combine(_folder, "from-state-dict.dat");
        using var source = new Tiny(2);
        using (var sd = StateDict.FromModule(source))
        {
            using (no_grad()) sd["fc1.weight"].mul_(3);
            TorchSharpCheckpoint.Save(path, sd);
        }
        using var target = new Tiny(3);
        target.load(path); // strict: same keys, types and shapes
        using var expectedWeight = source.state_dict()["fc1.weight"].mul(3);
        TestFiles.AssertBitIdentical(expectedWeight, target.state_dict()["fc1.weight"], "fc1.weight");
        TestFiles.AssertBitIdentical(source.state_dict()["norm.running_mean"], target.state_dict()["norm.running_mean"], "running_mean");
        Assert.Equal(11L, target.state_dict()["norm.num_batches_tracked"].item<long>());
    }

    [Fact]
    public void EveryDTypeAndNonAsciiKeysRoundTrip()
    {
        string path = Path.Combine(_folder, "types.dat");
        using var sd = new StateDict();
        sd.Add("f16", tensor(new[] { 1.5f, -2f }).to_type(ScalarType.Float16));
        sd.Add("bf16", tensor(new[] { 1.5f, -2f }).to_type(ScalarType.BFloat16));
        sd.Add("f64", tensor(new[] { 1.0 / 3 }));
        sd.Add("i32", tensor(new[] { -5, 7 }));
        sd.Add("u8", tensor(new byte[] { 255 }));
        sd.Add("bool", tensor(new[] { true, false }));
        sd.Add("gewicht.ß.😀", tensor(3L));
        sd.Add("t", arange(6, ScalarType.Float32).reshape(2, 3).t());
        TorchSharpCheckpoint.Save(path, sd);
        using var back = TorchSharpCheckpoint.Load(path);
        Assert.Equal(sd.Keys, back.Keys);
        foreach (var (key, t) in sd) TestFiles.AssertBitIdentical(t, back[key], key);
    }

    [Fact]
    public void TruncatedAndHostileFilesGiveInvalidData()
    {
        string path = Path.Combine(_folder, "tiny.dat");
        string lastKey;
        using (var module = new Tiny(4))
        {
            module.save(path);
            lastKey = module.state_dict().Keys.Last();
        }
        var bytes = File.ReadAllBytes(path);

        void Fails(string name, byte[] content, string problem)
        {
            string p = Path.Combine(_folder, name);
            File.WriteAllBytes(p, content);
            var ex = Assert.Throws<InvalidDataException>(() => TorchSharpCheckpoint.Load(p).Dispose());
            Assert.Contains(p, ex.Message);
            Assert.True(ex.Message.Contains(problem), $"expected \"{problem}\" in: {ex.Message}");
        }

        Fails("truncated.dat", bytes[..^7], $"entry 8 ('{lastKey}')");
        Fails("cut-in-first-tensor.dat", bytes[..40], "entry 0 ('fc1.weight')");
        Fails("cut-in-key.dat", new byte[] { 1, 10, (byte)'a', (byte)'b' }, "ends in the middle");
        Fails("header-only.dat", bytes[..3], "claims");
        Fails("empty.dat", Array.Empty<byte>(), "ends in the middle");
        // A count of 2^62 entries: rejected before any loop or allocation.
        Fails("huge-count.dat", new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0, 0, 0 }, "claims");
        Fails("overlong.dat", Enumerable.Repeat((byte)0xFF, 12).ToArray(), "does not fit");
        // One entry 'w' of type code 99.
        Fails("bad-type.dat", new byte[] { 1, 1, (byte)'w', 99, 0 }, "entry 0 ('w') has element type code 99");
        // One float entry of shape [2^40, 2^40].
        Fails("huge-shape.dat", new byte[] { 1, 1, (byte)'w', 6, 2, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20 }, "overflows");
        Fails("too-big.dat", new byte[] { 1, 1, (byte)'w', 6, 1, 100, 0, 0 }, "needs 400 bytes but only 2 remain");
    }
}

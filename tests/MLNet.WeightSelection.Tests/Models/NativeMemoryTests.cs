using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.ResNet;
using MLNet.WeightSelection.Models.Vit;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Models;

/// <summary>Runs alone: resident memory is process-wide, so parallel tests would blur the measurement.</summary>
[CollectionDefinition(nameof(NativeMemoryCollection), DisableParallelization = true)]
public sealed class NativeMemoryCollection;

/// <summary>
/// Dispose-scope discipline: a training loop that wraps each step in <c>torch.NewDisposeScope()</c> must not grow
/// native memory or leave live tensors behind, whatever the modules allocate inside their forward passes.
/// </summary>
[Collection(nameof(NativeMemoryCollection))]
public class NativeMemoryTests
{
    const long AllowedGrowthBytes = 20L * 1024 * 1024;

    public static IEnumerable<object[]> Models => new[]
    {
        new object[] { new ResNetSpec { Layers = new[] { 1, 1, 1, 1 }, Channels = new[] { 8, 16, 32, 64 }, NumClasses = 10, DropPathRate = 0.1, DropRate = 0.1 }.ToJson() },
        new object[] { new VisionTransformerSpec { ImageSize = 16, PatchSize = 4, EmbedDim = 32, Depth = 2, NumHeads = 2, NumClasses = 10, DropPathRate = 0.1, DropRate = 0.1 }.ToJson() },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void TwoHundredTrainingStepsDoNotGrowNativeMemory(string specJson)
    {
        torch.manual_seed(0);
        using var model = ModelSpec.FromJson(specJson).CreateModel();
        model.train();
        var optimizer = torch.optim.SGD(model.parameters(), 0.01, momentum: 0.9);
        long liveAt20 = 0, rssAt20 = 0;
        for (int step = 1; step <= 200; step++)
        {
            using (var scope = NewDisposeScope())
            {
                var x = randn(4, 3, 16, 16);
                var target = randint(0, 10, new long[] { 4 }, ScalarType.Int64);
                var loss = nn.functional.cross_entropy(model.call(x), target);
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
            if (step == 20)
            {
                liveAt20 = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
                rssAt20 = ResidentBytes();
            }
        }
        long liveAt200 = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        long growth = ResidentBytes() - rssAt20;
        Assert.True(liveAt200 <= liveAt20, $"live tensors grew from {liveAt20} to {liveAt200} between steps 20 and 200");
        Assert.True(growth < AllowedGrowthBytes, $"resident memory grew by {growth / 1024.0 / 1024.0:F1} MB between steps 20 and 200");
        foreach (var p in model.parameters()) Assert.True(p.isfinite().all().item<bool>());
    }

    static long ResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0]) * 1024;
        throw new InvalidOperationException("/proc/self/status has no VmRSS line.");
    }
}

using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNet.WeightSelection.MLNet;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>
/// The ML.NET internals that <see cref="EnvironmentAccess"/> reaches by reflection, one by one: each assertion names
/// the member, so an ML.NET upgrade that renames or removes one fails here by name instead of turning a feature
/// (cancellation, the context's seed, the GPU settings) silently off.
/// </summary>
public class EnvironmentAccessTests
{
    static Type Interface(object target, string name) =>
        target.GetType().GetInterfaces().FirstOrDefault(i => i.Name == name)
        ?? throw new Xunit.Sdk.XunitException($"{target.GetType().FullName} no longer implements ML.NET's internal {name} (ML.NET {typeof(MLContext).Assembly.GetName().Version}).");

    [Fact]
    public void Every_internal_member_read_by_reflection_still_exists()
    {
        var ml = new MLContext(seed: 3);
        Assert.NotNull(Interface(ml.Transforms, "IInternalCatalog").GetProperty("Environment"));
        var inner = typeof(MLContext).GetField("_env", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(ml);
        Assert.True(inner is not null, "MLContext._env (the LocalEnvironment that holds the cancellation flag) is gone.");
        var cancelable = Interface(inner!, "ICancelable");
        Assert.NotNull(cancelable.GetProperty("IsCanceled"));
        Assert.NotNull(cancelable.GetMethod("CancelExecution"));
        var environment = EnvironmentAccess.FromCatalog(ml.Transforms);
        var internals = Interface(environment, "IHostEnvironmentInternal");
        foreach (var name in new[] { "Seed", "GpuDeviceId", "FallbackToCpu" })
            Assert.True(internals.GetProperty(name) is not null, $"IHostEnvironmentInternal.{name} is gone.");
    }

    [Fact]
    public void The_catalogs_environment_carries_the_seed_the_gpu_settings_and_cancellation()
    {
        var ml = new MLContext(seed: 42) { GpuDeviceId = 1, FallbackToCpu = true };
        IHostEnvironment env = EnvironmentAccess.FromCatalog(ml.Transforms);
        Assert.Equal(42, EnvironmentAccess.Seed(env));
        Assert.Null(EnvironmentAccess.Seed(EnvironmentAccess.FromCatalog(new MLContext().Transforms)));
        Assert.Equal((1, true), EnvironmentAccess.Gpu(env));

        Assert.True(EnvironmentAccess.CanObserveCancellation(env));
        Assert.False(EnvironmentAccess.IsCanceled(env));
        EnvironmentAccess.CancelExecution(ml);
        Assert.True(EnvironmentAccess.IsCanceled(env));
    }
}

using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace MLNet.WeightSelection.MLNet;

/// <summary>
/// What ML.NET (6.0) keeps internal but this extension needs, and the one file that reaches it: the environment behind
/// a catalog (to build the estimator from <c>ml.Transforms</c>), the cancellation flag
/// that <c>MLContext.CancelExecution()</c> sets (to stop training between epochs), the context seed (the default
/// training seed) and the GPU settings (the device). Each is reached by reflection on the internal
/// member's name; EnvironmentAccessTests checks every member by name, so an ML.NET upgrade that renames one fails
/// loudly, not silently.
/// </summary>
internal static class EnvironmentAccess
{
    /// <summary>The <see cref="IHostEnvironment"/> behind a catalog (the internal <c>IInternalCatalog.Environment</c>).</summary>
    public static IHostEnvironment FromCatalog(TransformsCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var property = catalog.GetType().GetInterfaces()
            .FirstOrDefault(i => i.Name == "IInternalCatalog")?.GetProperty("Environment");
        if (property?.GetValue(catalog) is IHostEnvironment env) return env;
        throw new InvalidOperationException(
            "Could not reach the MLContext behind ml.Transforms (ML.NET's internal IInternalCatalog.Environment was not found; " +
            $"this build of Microsoft.ML is {typeof(TransformsCatalog).Assembly.GetName().Version}). " +
            "Create the estimator with new WeightSelectionEstimator(mlContext, options) instead.");
    }

    /// <summary>True once <c>CancelExecution()</c> was called on the environment (or on the MLContext that owns it).</summary>
    public static bool IsCanceled(IHostEnvironment env)
    {
        foreach (var candidate in new object?[] { env, Inner(env) })
        {
            if (candidate is null) continue;
            var property = candidate.GetType().GetInterfaces().FirstOrDefault(i => i.Name == "ICancelable")?.GetProperty("IsCanceled");
            if (property?.GetValue(candidate) is bool canceled) return canceled;
        }
        return false;
    }

    /// <summary>True when <see cref="IsCanceled"/> can see the flag at all (so a caller can say when it cannot).</summary>
    public static bool CanObserveCancellation(IHostEnvironment env) =>
        new object?[] { env, Inner(env) }.Any(c => c?.GetType().GetInterfaces().Any(i => i.Name == "ICancelable") == true);

    /// <summary>Calls the internal <c>MLContext.CancelExecution()</c> (or the environment's <c>ICancelable.CancelExecution</c>).</summary>
    public static void CancelExecution(IHostEnvironment env)
    {
        if (env is MLContext ml)
        {
            var method = typeof(MLContext).GetMethod("CancelExecution", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
            if (method is not null) { method.Invoke(ml, null); return; }
        }
        var cancel = (Inner(env) ?? env).GetType().GetInterfaces().FirstOrDefault(i => i.Name == "ICancelable")?.GetMethod("CancelExecution")
            ?? throw new InvalidOperationException("This ML.NET environment has no CancelExecution.");
        cancel.Invoke(Inner(env) ?? env, null);
    }

    /// <summary>GPU device and CPU fallback set on the context (<c>MLContext.GpuDeviceId</c>, <c>FallbackToCpu</c>).</summary>
    public static (int? GpuDeviceId, bool FallbackToCpu) Gpu(IHostEnvironment env)
    {
        if (env is MLContext ml) return (ml.GpuDeviceId, ml.FallbackToCpu);
        var iface = env.GetType().GetInterfaces().FirstOrDefault(i => i.Name == "IHostEnvironmentInternal");
        if (iface is null) return (null, false);
        return ((int?)iface.GetProperty("GpuDeviceId")?.GetValue(env), iface.GetProperty("FallbackToCpu")?.GetValue(env) is true);
    }

    /// <summary>The context's seed (<c>new MLContext(seed)</c>), or null when none was given.</summary>
    public static int? Seed(IHostEnvironment env)
    {
        var iface = env.GetType().GetInterfaces().FirstOrDefault(i => i.Name == "IHostEnvironmentInternal");
        return iface?.GetProperty("Seed")?.GetValue(env) as int?;
    }

    // MLContext keeps its LocalEnvironment in a private field; the cancellation flag lives there.
    static object? Inner(IHostEnvironment env) =>
        env is MLContext ? typeof(MLContext).GetField("_env", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(env) : null;
}

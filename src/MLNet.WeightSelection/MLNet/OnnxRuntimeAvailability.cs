using Microsoft.ML.OnnxRuntime;

namespace MLNet.WeightSelection.MLNet;

/// <summary>
/// Checks before training that ONNX Runtime's native library loads. The fitted model scores through
/// Microsoft.ML.OnnxTransformer, whose managed ONNX Runtime binding needs the native library that only the
/// Microsoft.ML.OnnxRuntime (or .Gpu) package brings; without it the first scoring step fails, which used to be
/// after the whole training run.
/// </summary>
internal static class OnnxRuntimeAvailability
{
    // Loading goes through ONNX Runtime's own binding (its DllImport resolver and deps.json probing), exactly as
    // scoring will; the environment it creates is the one the first InferenceSession would create anyway.
    static readonly Func<string> LoadThroughOnnxRuntime = () => OrtEnv.Instance().GetVersionString();

    static bool _available;

    /// <summary>
    /// A test's stand-in for the real load, seen only by the test's own flow of execution (parallel tests keep the real
    /// one), so that a missing native library can be shown through <c>Fit</c> and <c>ws train</c> in a process that has it.
    /// </summary>
    internal static readonly AsyncLocal<Func<string>?> ProbeOverride = new();

    /// <summary>Throws <see cref="InvalidOperationException"/> naming the package to add when ONNX Runtime cannot load.</summary>
    public static void Ensure()
    {
        if (ProbeOverride.Value is { } probe)
        {
            Ensure(probe);
            return;
        }
        if (_available) return;
        Ensure(LoadThroughOnnxRuntime);
        _available = true;
    }

    /// <summary>Runs <paramref name="probe"/>, which loads ONNX Runtime, and turns a load failure into one clear message.</summary>
    internal static void Ensure(Func<string> probe)
    {
        try
        {
            probe();
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            // The type initializer's wrapper says only that a type failed; the load error under it says why.
            var cause = e;
            while (cause is TypeInitializationException { InnerException: { } inner }) cause = inner;
            throw new InvalidOperationException(
                "ONNX Runtime's native library (onnxruntime) cannot be loaded, and the fitted model scores through it " +
                "(Microsoft.ML.OnnxTransformer). Add a PackageReference to Microsoft.ML.OnnxRuntime (or Microsoft.ML.OnnxRuntime.Gpu " +
                $"for CUDA) to the application; this is checked before training so that no training time is lost. ({cause.GetType().Name}: {FirstLine(cause.Message)})", cause);
        }
    }

    // The loader's message goes on to list every path it tried; that stays in the inner exception.
    static string FirstLine(string message) => message.Split('\n', 2)[0].Trim().TrimEnd(':');
}

using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using MLNet.WeightSelection.MLNet;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>
/// Makes ONNX Runtime look absent to the preflight of the calling test only: the probe loads a native library that
/// does not exist, through a type initializer, which is how ONNX Runtime's binding fails when its package is missing.
/// </summary>
public sealed class MissingNativeLibrary : IDisposable
{
    public const string Name = "onnxruntime_absent_for_this_test";

    public MissingNativeLibrary() => OnnxRuntimeAvailability.ProbeOverride.Value = () => Binding.Version;

    public void Dispose() => OnnxRuntimeAvailability.ProbeOverride.Value = null;

    static class Binding
    {
        static readonly IntPtr Handle = NativeLibrary.Load(Name, typeof(OrtEnv).Assembly, null);

        public static string Version => Handle.ToString();
    }
}

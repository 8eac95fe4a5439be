using Microsoft.ML.Runtime;
using TorchSharp;

namespace MLNet.WeightSelection.MLNet;

/// <summary>Where training runs: the option when set, else the MLContext's GPU settings.</summary>
internal static class DeviceChoice
{
    public static torch.Device Resolve(string? option, IHostEnvironment env, Action<string> log)
    {
        if (!string.IsNullOrWhiteSpace(option))
        {
            string text = option.Trim().ToLowerInvariant();
            if (text == "cpu") return torch.CPU;
            if (text == "cuda" || text.StartsWith("cuda:", StringComparison.Ordinal))
            {
                if (!torch.cuda.is_available())
                    throw new InvalidOperationException(
                        $"Device '{option}' was asked for, but CUDA is not available to TorchSharp (reference TorchSharp-cuda-linux or -windows instead of TorchSharp-cpu, and check the driver).");
                return new torch.Device(text);
            }
            throw new ArgumentException($"Device must be \"cpu\", \"cuda\" or \"cuda:N\"; got \"{option}\".");
        }

        var (gpu, fallback) = EnvironmentAccess.Gpu(env);
        if (gpu is not { } id) return torch.CPU;
        if (torch.cuda.is_available()) return new torch.Device(DeviceType.CUDA, id);
        if (!fallback)
            throw new InvalidOperationException(
                $"MLContext.GpuDeviceId is {id} but CUDA is not available to TorchSharp; set MLContext.FallbackToCpu = true to train on the CPU instead.");
        log($"MLContext.GpuDeviceId is {id} but CUDA is not available; training on the CPU (FallbackToCpu).");
        return torch.CPU;
    }
}

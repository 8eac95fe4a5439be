using MLNet.WeightSelection.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Onnx;

/// <summary>
/// Moves every tensor of a freshly built model away from its initialization (norm weights and layer-scale gammas
/// around 1, non-zero biases and BatchNorm statistics), so a wrong or skipped tensor changes the output.
/// </summary>
internal static class RandomizedModels
{
    public static T Perturb<T>(T model, int seed) where T : ImageClassifier
    {
        var gen = new Generator((ulong)seed);
        using var _ = no_grad();
        foreach (var (name, t) in model.state_dict())
        {
            if (!t.is_floating_point()) continue;
            if (name.EndsWith("running_var") || (t.dim() == 1 && (name.EndsWith(".weight") || name.EndsWith("gamma"))))
                t.copy_(rand(t.shape, generator: gen) + 0.5f);
            else if (name.EndsWith("running_mean") || t.dim() == 1)
                t.copy_(randn(t.shape, generator: gen) * 0.1f);
            else
            {
                float std = t.numel() > 1 ? Math.Max(t.std().item<float>(), 0.1f) : 0.1f;
                t.add_(randn(t.shape, generator: gen) * (0.5f * std));
            }
        }
        model.eval();
        return model;
    }
}

using MLNet.WeightSelection.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Onnx;

/// <summary>
/// Replaces every tensor of a freshly built model with seeded random values (norm weights and layer-scale gammas
/// around 1, non-zero biases and BatchNorm statistics, weights scaled by fan-in), so a wrong or skipped tensor changes
/// the output and the test does not depend on the global random state.
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
                long fanIn = t.numel() / t.shape[0];
                t.copy_(randn(t.shape, generator: gen) * (float)Math.Max(1.0 / Math.Sqrt(fanIn), 0.02));
            }
        }
        model.eval();
        return model;
    }
}

using MLNet.WeightSelection.Models;

namespace MLNet.WeightSelection.Bench.Accuracy;

static class Guard
{
    /// <summary>Fails loudly when a model holds NaN or infinite weights (a broken initialization would silently poison a comparison).</summary>
    public static void Finite(ImageClassifier model, string what)
    {
        foreach (var (name, tensor) in model.state_dict())
        {
            if (!tensor.is_floating_point()) continue;
            using var finite = tensor.isfinite().all();
            if (!finite.item<bool>()) throw new InvalidOperationException($"{what}: '{name}' holds NaN or infinite values.");
        }
    }
}

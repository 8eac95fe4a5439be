using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Training;

/// <summary>The training losses (timm's LabelSmoothingCrossEntropy, SoftTargetCrossEntropy and the paper's KD terms).</summary>
internal static class Losses
{
    /// <summary>One-hot targets <c>[B, K]</c> with smoothing ε: 1 − ε + ε/K on the label, ε/K elsewhere.</summary>
    public static Tensor SmoothedOneHot(Tensor labels, int numClasses, double smoothing)
    {
        using var scope = NewDisposeScope();
        double off = smoothing / numClasses;
        double on = 1.0 - smoothing + off;
        var targets = full(new long[] { labels.shape[0], numClasses }, off, ScalarType.Float32, labels.device);
        using var column = labels.unsqueeze(1);
        using var value = full(new long[] { labels.shape[0], 1 }, on, ScalarType.Float32, labels.device);
        targets.scatter_(1, column, value);
        return targets.MoveToOuterDisposeScope();
    }

    /// <summary>Mean over the batch of (1 − ε)·NLL + ε·mean over classes of −log p (hard labels).</summary>
    public static Tensor LabelSmoothingCrossEntropy(Tensor logits, Tensor labels, double smoothing)
    {
        using var scope = NewDisposeScope();
        var logp = logits.log_softmax(-1);
        var nll = logp.gather(1, labels.unsqueeze(1)).squeeze(1).neg();
        var uniform = logp.mean(new long[] { -1 }).neg();
        return nll.mul(1.0 - smoothing).add(uniform, smoothing).mean().MoveToOuterDisposeScope();
    }

    /// <summary>Mean over the batch of Σ_k −y_k log p_k for soft targets <paramref name="targets"/>.</summary>
    public static Tensor SoftTargetCrossEntropy(Tensor logits, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var logp = logits.log_softmax(-1);
        return targets.mul(logp).sum(new long[] { -1 }).neg().mean().MoveToOuterDisposeScope();
    }

    /// <summary>KL(p_t ‖ p_s) · T² with p = softmax(logits / T), averaged over the batch (Eq. 1's distillation term).</summary>
    public static Tensor LogitDistillation(Tensor studentLogits, Tensor teacherLogits, double temperature)
    {
        using var scope = NewDisposeScope();
        var logPs = studentLogits.div(temperature).log_softmax(-1);
        var logPt = teacherLogits.div(temperature).log_softmax(-1);
        var kl = logPt.exp().mul(logPt.sub(logPs)).sum(new long[] { -1 }).mean();
        return kl.mul(temperature * temperature).MoveToOuterDisposeScope();
    }

    /// <summary>Mean absolute difference between projected student features and teacher features (Eq. 2's term).</summary>
    public static Tensor FeatureDistillation(Tensor projectedStudent, Tensor teacherFeatures) =>
        nn.functional.l1_loss(projectedStudent, teacherFeatures);
}

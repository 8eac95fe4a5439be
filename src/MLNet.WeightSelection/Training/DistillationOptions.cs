using MLNet.WeightSelection.Models;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// Knowledge distillation from the teacher while the student trains (the paper's Eq. 1 and 2). The teacher runs in
/// eval mode under no_grad and sees the same augmented batch, normalized with its own input convention.
/// </summary>
public abstract record DistillationOptions
{
    private protected DistillationOptions(float alpha)
    {
        if (!(alpha >= 0) || float.IsInfinity(alpha))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "The distillation weight alpha must be finite and >= 0.");
        Alpha = alpha;
    }

    /// <summary>Weight of the distillation term added to the classification loss.</summary>
    public float Alpha { get; }

    /// <summary>
    /// Logit distillation (Eq. 1): loss = CE + alpha · KL(p_t ‖ p_s) · T², with p = softmax(logits / T). The teacher's
    /// classifier must have the student's classes.
    /// </summary>
    /// <param name="alpha">Weight of the KL term. Default: 1.</param>
    /// <param name="temperature">Softmax temperature T (&gt; 0). Default: 1.</param>
    public static DistillationOptions Logits(float alpha = 1f, float temperature = 1f) => new LogitDistillation(alpha, temperature);

    /// <summary>
    /// Feature distillation (Eq. 2): loss = CE + alpha · L1(MLP(f_s), f_t) between the teacher's pooled pre-logits
    /// features f_t and a projection of the student's f_s (Linear–GELU–Linear, trained along, discarded after).
    /// </summary>
    /// <param name="alpha">Weight of the L1 term. Default: 1.</param>
    public static DistillationOptions Features(float alpha = 1f) => new FeatureDistillation(alpha);

    /// <summary>
    /// Distillation turned off explicitly, where null would let the fitted recipe decide (<see cref="RecipeSettings"/>).
    /// <see cref="TrainingOptions.Distillation"/> reads it as null.
    /// </summary>
    public static DistillationOptions Off { get; } = new NoDistillation();

    /// <summary>True only for <see cref="Off"/>.</summary>
    public bool IsOff => this is NoDistillation;

    /// <summary>The loss term this option adds to a run with <paramref name="student"/> and <paramref name="teacher"/>; null when off.</summary>
    internal abstract TrainingObjective? CreateObjective(ImageClassifier student, ImageClassifier teacher, TorchSharp.torch.Device device, long seed);
}

/// <summary>The value of <see cref="DistillationOptions.Off"/>.</summary>
public sealed record NoDistillation : DistillationOptions
{
    internal NoDistillation() : base(0f) { }

    internal override TrainingObjective? CreateObjective(ImageClassifier student, ImageClassifier teacher, TorchSharp.torch.Device device, long seed) => null;

    /// <inheritdoc />
    public override string ToString() => "off";
}

/// <summary>Logit distillation: KL(p_t ‖ p_s) · T² weighted by <see cref="DistillationOptions.Alpha"/>.</summary>
public sealed record LogitDistillation : DistillationOptions
{
    /// <summary>Creates logit distillation; see <see cref="DistillationOptions.Logits"/>.</summary>
    public LogitDistillation(float alpha, float temperature) : base(alpha)
    {
        if (!(temperature > 0) || float.IsInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The distillation temperature must be finite and > 0.");
        Temperature = temperature;
    }

    /// <summary>Softmax temperature T.</summary>
    public float Temperature { get; }

    internal override TrainingObjective CreateObjective(ImageClassifier student, ImageClassifier teacher, TorchSharp.torch.Device device, long seed) =>
        new LogitDistillationObjective(this);

    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant($"Logits(alpha={Alpha:R}, T={Temperature:R})");
}

/// <summary>Feature distillation: L1 between teacher features and projected student features.</summary>
public sealed record FeatureDistillation : DistillationOptions
{
    /// <summary>Creates feature distillation; see <see cref="DistillationOptions.Features"/>.</summary>
    public FeatureDistillation(float alpha) : base(alpha) { }

    internal override TrainingObjective CreateObjective(ImageClassifier student, ImageClassifier teacher, TorchSharp.torch.Device device, long seed) =>
        new FeatureDistillationObjective(this, student.NumFeatures, teacher.NumFeatures, device, seed);

    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant($"Features(alpha={Alpha:R})");
}

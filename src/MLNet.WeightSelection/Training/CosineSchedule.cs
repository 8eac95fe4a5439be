namespace MLNet.WeightSelection.Training;

/// <summary>
/// Per-iteration learning rate: linear warmup from the minimum to the peak over <see cref="WarmupSteps"/> steps,
/// then a half cosine from the peak down to the minimum at <see cref="TotalSteps"/>.
/// </summary>
public sealed class CosineSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="peak">Learning rate at the end of warmup.</param>
    /// <param name="minimum">Learning rate at step 0 and at the end (capped at <paramref name="peak"/>).</param>
    /// <param name="warmupSteps">Steps of linear warmup (0 starts at the peak).</param>
    /// <param name="totalSteps">Steps of the whole run (at least 1).</param>
    public CosineSchedule(double peak, double minimum, long warmupSteps, long totalSteps)
    {
        if (!(peak > 0)) throw new ArgumentOutOfRangeException(nameof(peak), peak, "The peak learning rate must be > 0.");
        if (!(minimum >= 0)) throw new ArgumentOutOfRangeException(nameof(minimum), minimum, "The minimum learning rate must be >= 0.");
        if (totalSteps < 1) throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "A schedule needs at least one step.");
        if (warmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, "Warmup steps must be >= 0.");
        Peak = peak;
        Minimum = Math.Min(minimum, peak);
        TotalSteps = totalSteps;
        WarmupSteps = Math.Min(warmupSteps, totalSteps);
    }

    /// <summary>Peak learning rate.</summary>
    public double Peak { get; }

    /// <summary>Learning rate at the start and at the end.</summary>
    public double Minimum { get; }

    /// <summary>Steps of linear warmup.</summary>
    public long WarmupSteps { get; }

    /// <summary>Steps of the whole run.</summary>
    public long TotalSteps { get; }

    /// <summary>The learning rate for 0-based step <paramref name="step"/> (the update made at that step).</summary>
    public double LearningRate(long step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, "Steps are counted from 0.");
        if (step < WarmupSteps) return Minimum + (Peak - Minimum) * step / WarmupSteps;
        long decaySteps = TotalSteps - WarmupSteps;
        if (decaySteps <= 0) return Peak;
        double progress = Math.Min(1.0, (double)(step - WarmupSteps) / decaySteps);
        return Minimum + 0.5 * (Peak - Minimum) * (1 + Math.Cos(Math.PI * progress));
    }
}

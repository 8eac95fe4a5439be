using System.Globalization;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// An exponential moving average (EMA) of the student's weights, updated after every optimizer step as timm's model
/// EMA does: floating-point parameters and buffers (BatchNorm running statistics included) move towards the live
/// model's by <c>1 − decay</c>, integer buffers are copied. After every epoch both the live and the EMA weights are
/// scored on the validation data, and the trained model keeps whichever scored better. Needs validation data.
/// </summary>
public sealed class EmaOptions
{
    /// <summary>The decay once warmup is over: the share of the average kept at each step. Default: 0.9998 (timm's <c>--model-ema-decay</c>).</summary>
    public double Decay { get; set; } = 0.9998;

    /// <summary>
    /// Whether the decay warms up as <c>1 − (1 + n)^−WarmupPower</c> after n updates (capped at <see cref="Decay"/>), so
    /// that on a short run the average forgets the initial weights. Without warmup the first update copies the model
    /// and every later one uses <see cref="Decay"/>. Default: true.
    /// </summary>
    public bool Warmup { get; set; } = true;

    /// <summary>The power of the warmup: 2/3 reaches decay 0.999 after about 31,600 steps, 3/4 after about 10,000. Default: 2/3.</summary>
    public double WarmupPower { get; set; } = 2.0 / 3.0;

    /// <summary>
    /// The decay applied by the update after optimizer step <paramref name="step"/> (1-based, counted over the whole
    /// run): 0 up to the first step (the average starts as a copy of the model), then <see cref="Decay"/>, or the
    /// warmup value when that is smaller.
    /// </summary>
    public double DecayAt(long step)
    {
        long updates = step - 1;
        if (updates <= 0) return 0.0;
        if (!Warmup) return Decay;
        return Math.Min(Decay, 1.0 - Math.Pow(1.0 + updates, -WarmupPower));
    }

    /// <summary>True only for <see cref="Off"/>.</summary>
    public bool IsOff { get; private init; }

    /// <summary>
    /// EMA turned off explicitly, where null would let the fitted recipe decide (<see cref="RecipeSettings"/>).
    /// <see cref="TrainingOptions.Ema"/> reads it as null.
    /// </summary>
    public static EmaOptions Off { get; } = new() { IsOff = true };

    /// <summary>Throws <see cref="ArgumentException"/> when a value is out of range.</summary>
    public void Validate()
    {
        if (!(Decay >= 0 && Decay < 1)) throw new ArgumentException($"Ema.Decay must be in [0, 1); got {Decay}.");
        if (!(WarmupPower > 0) || double.IsInfinity(WarmupPower)) throw new ArgumentException($"Ema.WarmupPower must be finite and > 0; got {WarmupPower}.");
    }

    /// <summary>The settings in one line, as the training log and the checkpoint fingerprint show them.</summary>
    public override string ToString() => IsOff ? "off" : string.Create(CultureInfo.InvariantCulture,
        $"decay {Decay:R}, warmup {(Warmup ? $"power {WarmupPower:R}" : "off")}");
}

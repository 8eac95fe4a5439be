namespace MLNet.WeightSelection.Training;

/// <summary>The outcome of <see cref="ImageClassifierTrainer.Train"/>: the full history and how training ended.</summary>
public sealed class TrainingResult
{
    internal TrainingResult(IReadOnlyList<EpochMetrics> history, int bestEpoch, bool stoppedEarly, bool resumed, bool keptEma = false)
    {
        KeptEma = keptEma;
        History = history;
        BestEpoch = bestEpoch;
        StoppedEarly = stoppedEarly;
        Resumed = resumed;
    }

    /// <summary>Every completed epoch's metrics in order, including epochs done before a resume.</summary>
    public IReadOnlyList<EpochMetrics> History { get; }

    /// <summary>
    /// 1-based epoch with the best monitored metric (validation accuracy, of the better of the live and EMA weights when
    /// EMA is on; or training loss without validation). With
    /// early stopping the model holds this epoch's weights; without it the model holds the last epoch's.
    /// </summary>
    public int BestEpoch { get; }

    /// <summary>True when early stopping ended training before the last epoch.</summary>
    public bool StoppedEarly { get; }

    /// <summary>True when training continued from a checkpoint in <see cref="TrainingOptions.CheckpointDirectory"/>.</summary>
    public bool Resumed { get; }

    /// <summary>
    /// True when the model holds the EMA weights (<see cref="TrainingOptions.Ema"/>) of the epoch it keeps, because they
    /// scored better on validation than the live weights; false when it holds the live weights or EMA was off.
    /// </summary>
    public bool KeptEma { get; }

    /// <summary>The metrics of <see cref="BestEpoch"/>.</summary>
    public EpochMetrics Best => History[BestEpoch - 1];
}

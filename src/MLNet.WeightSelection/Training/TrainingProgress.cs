namespace MLNet.WeightSelection.Training;

/// <summary>Counters of a training run that a checkpoint must carry to resume exactly.</summary>
internal sealed class TrainingProgress
{
    /// <summary>Epochs fully completed (1-based count).</summary>
    public int CompletedEpochs { get; set; }

    /// <summary>Optimizer steps taken so far: the schedule's position.</summary>
    public long GlobalStep { get; set; }

    /// <summary>1-based epoch with the best monitored metric; 0 before the first epoch.</summary>
    public int BestEpoch { get; set; }

    /// <summary>The best monitored metric so far (NaN before the first epoch).</summary>
    public double BestMetric { get; set; } = double.NaN;

    /// <summary>Epochs since <see cref="BestEpoch"/> that did not improve by the minimum delta.</summary>
    public int EpochsWithoutImprovement { get; set; }

    /// <summary>True once early stopping ended the run.</summary>
    public bool StoppedEarly { get; set; }

    /// <summary>Training wall time accumulated over all runs.</summary>
    public TimeSpan Elapsed { get; set; }

    /// <summary>Every completed epoch's metrics.</summary>
    public List<EpochMetrics> History { get; } = new();
}

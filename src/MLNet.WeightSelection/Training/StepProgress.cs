namespace MLNet.WeightSelection.Training;

/// <summary>Progress after one optimizer step, for progress bars and channels that report within an epoch.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Step">1-based step within the epoch.</param>
/// <param name="StepsPerEpoch">Steps in each epoch.</param>
/// <param name="Loss">The step's minimized loss.</param>
/// <param name="LearningRate">The learning rate the step used.</param>
public sealed record StepProgress(int Epoch, int Step, int StepsPerEpoch, double Loss, double LearningRate);

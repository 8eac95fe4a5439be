using Xunit;

namespace MLNet.WeightSelection.Tests.Training;

/// <summary>
/// Tests that read libtorch's process-wide state run alone: dropout draws from the global generator and the thread
/// count is global, and tests running in parallel would reseed, consume or change them mid-run.
/// </summary>
[CollectionDefinition(nameof(GlobalTorchState), DisableParallelization = true)]
public sealed class GlobalTorchState { }

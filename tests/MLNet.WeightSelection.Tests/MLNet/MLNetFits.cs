using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>
/// Tests that fit the estimator run alone and share one fitted model: training reseeds libtorch's global generator
/// and sets its global thread count, so fits running in parallel would disturb each other. The fits train on one
/// thread (<c>Threads = 1</c>): on a shared two-core machine libtorch's second thread mostly waits for a core.
/// </summary>
[CollectionDefinition(nameof(MLNetFits), DisableParallelization = true)]
public sealed class MLNetFits : ICollectionFixture<FittedModelFixture> { }

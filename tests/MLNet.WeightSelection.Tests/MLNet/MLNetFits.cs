using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>
/// Tests that fit the estimator run alone and share one fitted model: training reseeds libtorch's global generator
/// and sets its global thread count, so fits running in parallel would disturb each other. The fits use one thread
/// (<c>Threads = 1</c>): on this machine libtorch 2.10 with two intra-op threads gave non-finite gradients in the
/// ResNet stem (conv1/bn1) after a few steps, which one thread does not.
/// </summary>
[CollectionDefinition(nameof(MLNetFits), DisableParallelization = true)]
public sealed class MLNetFits : ICollectionFixture<FittedModelFixture> { }

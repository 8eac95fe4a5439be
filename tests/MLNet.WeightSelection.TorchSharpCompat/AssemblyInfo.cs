using Xunit;

// A weight-selection fit reseeds libtorch's global generator and sets its thread count; keep it alone.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

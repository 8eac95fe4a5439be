using Microsoft.ML.OnnxRuntime;

namespace MLNet.WeightSelection.MLNet;

/// <summary>
/// The student's ONNX graph in one ONNX Runtime session, run on many rows per call. ML.NET's <c>ApplyOnnxModel</c>
/// calls ONNX Runtime once per row, and for a small student that per-call cost is most of the scoring time.
/// </summary>
internal sealed class BatchedStudent : IDisposable
{
    readonly Lazy<InferenceSession> _session;

    /// <param name="studentOnnx">The student as ONNX, with <see cref="ScoringChain.StudentInput"/> <c>[N, 3, S, S]</c> in and
    /// <see cref="ScoringChain.StudentOutput"/> <c>[N, K]</c> probabilities out.</param>
    /// <param name="batchSize">Rows per ONNX Runtime call.</param>
    public BatchedStudent(byte[] studentOnnx, int batchSize = DefaultBatchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        BatchSize = batchSize;
        // Created on first use: a transformer that is only saved or used through a PredictionEngine never needs it.
        _session = new Lazy<InferenceSession>(() => new InferenceSession(studentOnnx), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Rows per call: large enough that the call's fixed cost is small, small enough to keep memory low at 224 px.</summary>
    public const int DefaultBatchSize = 64;

    /// <summary>Rows per ONNX Runtime call.</summary>
    public int BatchSize { get; }

    /// <summary>ONNX Runtime calls made so far (for tests).</summary>
    internal int Calls => _calls;

    int _calls;

    /// <summary>
    /// Scores <paramref name="rows"/> images of <paramref name="pixelsPerRow"/> planar pixels each and writes
    /// <paramref name="classes"/> probabilities per row into <paramref name="probabilities"/>.
    /// </summary>
    public void Run(float[] pixels, int rows, int pixelsPerRow, float[] probabilities, int classes)
    {
        int side = (int)Math.Round(Math.Sqrt(pixelsPerRow / 3.0));
        if (3 * side * side != pixelsPerRow)
            throw new InvalidOperationException($"A row has {pixelsPerRow} pixel values, which is not 3·S·S planar RGB.");
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels.AsMemory(0, rows * pixelsPerRow),
            new long[] { rows, 3, side, side });
        Interlocked.Increment(ref _calls);
        using var runOptions = new RunOptions();
        using var outputs = _session.Value.Run(runOptions, new[] { ScoringChain.StudentInput }, new[] { input }, new[] { ScoringChain.StudentOutput });
        var scores = outputs[0].GetTensorDataAsSpan<float>();
        if (scores.Length != rows * classes)
            throw new InvalidOperationException($"The student gave {scores.Length} probabilities for {rows} rows of {classes} classes.");
        scores.CopyTo(probabilities);
    }

    /// <summary>Releases the ONNX Runtime session, if one was made.</summary>
    public void Dispose()
    {
        if (_session.IsValueCreated) _session.Value.Dispose();
    }
}

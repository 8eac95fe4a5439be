using Microsoft.ML.Runtime;

namespace MLNet.WeightSelection.MLNet;

/// <summary>
/// One cancellation for a whole <c>Fit</c>: the options' token, or <c>MLContext.CancelExecution()</c>. ML.NET only sets a
/// flag on its environment, so a timer polls it and cancels the linked token the training loop checks before every batch.
/// </summary>
internal sealed class FitCancellation : IDisposable
{
    readonly IHostEnvironment _env;
    readonly CancellationToken _user;
    readonly CancellationTokenSource _linked;
    readonly Timer _poll;

    public FitCancellation(IHostEnvironment env, CancellationToken user)
    {
        _env = env;
        _user = user;
        _linked = CancellationTokenSource.CreateLinkedTokenSource(user);
        _poll = new Timer(_ =>
        {
            if (EnvironmentAccess.IsCanceled(_env))
            {
                try { _linked.Cancel(); } catch (ObjectDisposedException) { }
            }
        }, null, 50, 50);
    }

    /// <summary>Cancelled by either source.</summary>
    public CancellationToken Token => _linked.Token;

    /// <summary>Throws a clear <see cref="OperationCanceledException"/> when either source asked to stop.</summary>
    public void ThrowIfCanceled()
    {
        if (_user.IsCancellationRequested || EnvironmentAccess.IsCanceled(_env) || _linked.IsCancellationRequested)
            throw Explain(null);
    }

    /// <summary>An exception saying which source stopped the fit (wrapping the one training threw, if any).</summary>
    public OperationCanceledException Explain(OperationCanceledException? inner)
    {
        var e = _user.IsCancellationRequested
            ? new OperationCanceledException("InitializeFromTeacher was canceled through WeightSelectionOptions.CancellationToken.", inner, _user)
            : new OperationCanceledException("InitializeFromTeacher was canceled by MLContext.CancelExecution().", inner, _linked.Token);
        e.Data[ExplainedKey] = true;
        return e;
    }

    /// <summary>True for an exception made by <see cref="Explain"/>.</summary>
    public static bool IsExplained(Exception e) => e.Data.Contains(ExplainedKey);

    const string ExplainedKey = "MLNet.WeightSelection.CancellationExplained";

    public void Dispose()
    {
        _poll.Dispose();
        _linked.Dispose();
    }
}

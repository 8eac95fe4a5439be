using MLNet.WeightSelection.Cli;

namespace MLNet.WeightSelection.Tests.Cli;

/// <summary>What one in-process run of <c>ws</c> returned and printed.</summary>
public sealed record WsResult(int ExitCode, string Out, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Out}\n--- stderr ---\n{Error}";
}

/// <summary>Runs the <c>ws</c> tool in-process, as Program.Main does, capturing both streams.</summary>
public static class Ws
{
    public static WsResult Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = WsApp.Run(args, stdout, stderr);
        return new WsResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs <c>ws</c> and cancels it (as Ctrl+C does) as soon as its output contains <paramref name="marker"/>.</summary>
    public static WsResult RunUntil(string marker, params string[] args)
    {
        using var cancel = new CancellationTokenSource();
        var stdout = new WatchingWriter(marker, cancel);
        var stderr = new StringWriter();
        int code = WsApp.Run(args, stdout, stderr, cancellation: cancel.Token);
        return new WsResult(code, stdout.ToString(), stderr.ToString());
    }

    sealed class WatchingWriter(string marker, CancellationTokenSource cancel) : StringWriter
    {
        public override void Write(char value)
        {
            base.Write(value);
            Check();
        }

        public override void Write(string? value)
        {
            base.Write(value);
            Check();
        }

        public override void Write(char[] buffer, int index, int count)
        {
            base.Write(buffer, index, count);
            Check();
        }

        void Check()
        {
            if (!cancel.IsCancellationRequested && ToString().Contains(marker, StringComparison.Ordinal)) cancel.Cancel();
        }
    }
}

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
}

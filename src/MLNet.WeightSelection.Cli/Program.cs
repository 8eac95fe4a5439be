using MLNet.WeightSelection.Cli;

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl+C asks the running command to stop at the next batch; a second one ends the process.
    if (cancellation.IsCancellationRequested) return;
    e.Cancel = true;
    cancellation.Cancel();
};
return WsApp.Run(args, Console.Out, Console.Error, interactive: !Console.IsOutputRedirected, cancellation.Token);

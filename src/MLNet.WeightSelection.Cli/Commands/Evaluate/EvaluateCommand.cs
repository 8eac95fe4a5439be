using System.CommandLine;
using MLNet.WeightSelection.Cli.Infrastructure;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>What <c>ws evaluate</c> was asked.</summary>
internal sealed record EvaluateRequest(string Model, string Data);

/// <summary><c>ws evaluate --model model.zip --data &lt;folder&gt;</c>: accuracy, top-5, log-loss, per-class metrics, confusion matrix.</summary>
internal static class EvaluateCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Option<string>("--model") { Description = "The ML.NET model.zip that ws train saved.", Required = true };
        var data = new Option<string>("--data")
        {
            Description = "An image folder: its test/ split when present, else one subfolder per class.",
            Required = true,
        };
        var command = new Command("evaluate", "Evaluate a saved model.zip on labelled images: accuracy, top-5, log-loss, per-class metrics and a confusion matrix.")
        {
            model, data,
        };
        command.SetAction(parse => EvaluateRunner.Run(new EvaluateRequest(parse.GetRequiredValue(model), parse.GetRequiredValue(data)), context));
        return command;
    }
}

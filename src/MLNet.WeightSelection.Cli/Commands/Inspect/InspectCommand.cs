using System.CommandLine;
using MLNet.WeightSelection.Cli.Infrastructure;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>What <c>ws inspect</c> was asked.</summary>
/// <param name="Checkpoint">The file to inspect.</param>
/// <param name="All">List every tensor instead of the first <paramref name="Limit"/>.</param>
/// <param name="Limit">Tensors listed when not <paramref name="All"/>.</param>
internal sealed record InspectRequest(string Checkpoint, bool All, int Limit);

/// <summary><c>ws inspect &lt;checkpoint&gt;</c>: parsing only; <see cref="InspectRunner"/> does the work.</summary>
internal static class InspectCommand
{
    public static Command Create(CliContext context)
    {
        var checkpoint = new Argument<string>("checkpoint")
        {
            Description = "A checkpoint: .safetensors, PyTorch .pt/.pth/.bin, TorchSharp .dat, or a ResNet .onnx (imported under timm's names).",
        };
        var all = new Option<bool>("--all") { Description = "List every tensor (long lists are cut otherwise)." };
        var limit = new Option<int>("--limit")
        {
            Description = "Tensors listed before the list is cut (without --all).",
            DefaultValueFactory = _ => 30,
        };
        var command = new Command("inspect", "Show a checkpoint's tensors (name, shape, dtype), its parameter count, its model family and the preset it matches.")
        {
            checkpoint, all, limit,
        };
        command.SetAction(parse =>
        {
            var request = new InspectRequest(parse.GetRequiredValue(checkpoint), parse.GetValue(all), parse.GetValue(limit));
            return InspectRunner.Run(request, context);
        });
        return command;
    }
}

using System.Text.RegularExpressions;

namespace MLNet.WeightSelection.Cli.Infrastructure;

/// <summary>The device names <c>WeightSelectionOptions.Device</c> accepts, checked while parsing.</summary>
internal static partial class DeviceNames
{
    public static bool IsValid(string device) => Pattern().IsMatch(device);

    [GeneratedRegex(@"^(cpu|cuda(:\d+)?)$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}

using System.Diagnostics;
using MLNet.WeightSelection.Bench.Infra;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Selection;

namespace MLNet.WeightSelection.Bench.Selection;

/// <summary>
/// <c>profile-read --teacher FILE [--key blocks.0.mlp.fc1.weight] [--rows 768] [--cols 192]</c>: where the time of one
/// selected read goes. Times <see cref="SafeTensorsFile.ReadSelected"/> twice on the same tensor (first touch of the
/// mapped pages, then warm), rows only and rows + columns, against a plain whole-tensor <see cref="SafeTensorsFile.Read"/>.
/// </summary>
static class ReadProfile
{
    public static int Run(Args args)
    {
        string path = args.Required("teacher");
        string key = args.Get("key", "blocks.0.mlp.fc1.weight");
        int rows = args.Int("rows", 768), cols = args.Int("cols", 192);
        args.EnsureAllUsed();
        using var file = SafeTensorsFile.Open(path);
        var shape = file.GetInfo(key).Shape;
        var r = ElementSelection.UniformIndices(shape[0], rows);
        var c = ElementSelection.UniformIndices(shape[1], cols);
        void Time(string what, Func<TorchSharp.torch.Tensor> read)
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            using var t = read();
            Console.WriteLine($"{what,-40} {clock.Elapsed.TotalMilliseconds,8:F1} ms wall, {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds,8:F1} ms CPU, [{string.Join(", ", t.shape)}]");
        }
        Time("rows+cols, cold pages", () => file.ReadSelected(key, new[] { r, c }));
        Time("rows+cols, warm pages", () => file.ReadSelected(key, new[] { r, c }));
        Time("rows only, warm pages", () => file.ReadSelected(key, new long[]?[] { r, null }));
        Time("whole tensor Read, warm pages", () => file.Read(key));
        string other = key.Replace("blocks.0.", "blocks.1.", StringComparison.Ordinal);
        Time($"whole Read {other}, cold pages", () => file.Read(other));
        Time($"rows+cols {other}, warm pages", () => file.ReadSelected(other, new[] { r, c }));
        CopyProfile();
        return 0;
    }

    // Separates the cost of a fresh destination (page faults) from that of TorchSharp's byte span.
    static void CopyProfile()
    {
        const int n = 16 << 20;
        var source = new byte[n];
        new Random(1).NextBytes(source);
        for (int round = 0; round < 2; round++)
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            using (var t = TorchSharp.torch.empty(n / 4))
            {
                var span = t.bytes;
                var cpuMid = Process.GetCurrentProcess().TotalProcessorTime;
                source.AsSpan().CopyTo(span);
                var cpuEnd = Process.GetCurrentProcess().TotalProcessorTime;
                Console.WriteLine($"empty(16 MB) + .bytes: {(cpuMid - cpu).TotalMilliseconds:F1} ms CPU to get the span, {(cpuEnd - cpuMid).TotalMilliseconds:F1} ms CPU to copy into it");
            }
            var managed = new byte[n];
            cpu = Process.GetCurrentProcess().TotalProcessorTime;
            source.AsSpan().CopyTo(managed);
            Console.WriteLine($"managed fresh 16 MB copy: {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds:F1} ms CPU");
        }
    }
}

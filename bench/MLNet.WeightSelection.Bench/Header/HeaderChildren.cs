using MLNet.WeightSelection.Bench.Infra;
using MLNet.WeightSelection.Checkpoints;

namespace MLNet.WeightSelection.Bench.Header;

/// <summary>The process the header benchmark measures in-process, run as a child of <see cref="HeaderBenchmark"/>.</summary>
static class HeaderChildren
{
    /// <summary>
    /// <c>open-header --file FILE</c>: opens a safetensors file and asks every tensor's name, shape and dtype (what any
    /// reader of the header does first), reporting the time and the bytes allocated on this thread for each step.
    /// Uses only public API, so the same harness runs against an older build of the library.
    /// </summary>
    public static int OpenHeader(Args args)
    {
        string path = args.Required("file");
        args.EnsureAllUsed();
        var clock = new PhaseClock();
        long before = GC.GetAllocatedBytesForCurrentThread();
        using var file = SafeTensorsFile.Open(path);
        long afterOpen = GC.GetAllocatedBytesForCurrentThread();
        clock.Lap("open");
        long elements = 0;
        foreach (var key in file.Keys) elements += file.GetInfo(key).ElementCount;
        long afterInfo = GC.GetAllocatedBytesForCurrentThread();
        clock.Lap("infos");
        ChildProcess.Report(new()
        {
            ["tensors"] = file.Keys.Count,
            ["elements"] = elements,
            ["metadata_entries"] = file.Metadata.Count,
            ["open_allocated_bytes"] = afterOpen - before,
            ["infos_allocated_bytes"] = afterInfo - afterOpen,
            ["phases"] = clock.Wall,
            ["phases_cpu"] = clock.CpuSeconds,
            ["library"] = typeof(SafeTensorsFile).Assembly.Location,
        });
        return 0;
    }
}

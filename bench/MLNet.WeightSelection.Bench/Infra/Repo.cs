namespace MLNet.WeightSelection.Bench.Infra;

/// <summary>Where the benchmark reads and writes: the repository root, bench/out (git-ignored) and bench/results (committed).</summary>
static class Repo
{
    static readonly Lazy<string> RootPath = new(FindRoot);

    public static string Root => RootPath.Value;

    /// <summary>Generated big files (teachers, checkpoints, features): never committed.</summary>
    public static string Out(params string[] parts)
    {
        var path = Path.Combine(new[] { Root, "bench", "out" }.Concat(parts).ToArray());
        Directory.CreateDirectory(parts.Length == 0 ? path : Path.GetDirectoryName(path)!);
        return path;
    }

    /// <summary>Small result files (JSON, markdown tables) that the docs cite: committed.</summary>
    public static string Results(string file)
    {
        var dir = Path.Combine(Root, "bench", "results");
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, file);
    }

    public static string Python(string script) => Path.Combine(Root, "bench", "python", script);

    static string FindRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "MLNet.WeightSelection.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException(
            $"Could not find the repository root (the folder holding MLNet.WeightSelection.sln) above '{Environment.CurrentDirectory}' or '{AppContext.BaseDirectory}'.");
    }
}

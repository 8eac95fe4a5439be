namespace MLNet.WeightSelection.Tests;

/// <summary>Locations of shared test material: ../shared/golden beside the repository (or WS_GOLDEN_DIR).</summary>
public static class TestPaths
{
    /// <summary>The repository root (the folder holding MLNet.WeightSelection.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The folder of timm-made golden vectors.</summary>
    public static string Golden { get; } =
        Environment.GetEnvironmentVariable("WS_GOLDEN_DIR") is { Length: > 0 } dir ? dir
            : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "golden"));

    /// <summary>Path of a file in the golden folder.</summary>
    public static string GoldenFile(string name) => Path.Combine(Golden, name);

    /// <summary>A new empty temporary folder, removed by the OS's temp cleaning.</summary>
    public static string NewTempDirectory()
    {
        string path = Path.Combine(Path.GetTempPath(), "ws-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLNet.WeightSelection.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No MLNet.WeightSelection.sln above {AppContext.BaseDirectory}.");
    }
}

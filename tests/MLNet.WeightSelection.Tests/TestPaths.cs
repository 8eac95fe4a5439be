namespace MLNet.WeightSelection.Tests;

/// <summary>Locations of test material inside the repository, and the tests' temporary folders.</summary>
public static class TestPaths
{
    /// <summary>The repository root (the folder holding MLNet.WeightSelection.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The folder of timm-made golden vectors (tests/golden; tests/golden/README.md says how they were made).</summary>
    public static string Golden { get; } = Path.Combine(RepoRoot, "tests", "golden");

    /// <summary>Path of a file in the golden folder.</summary>
    public static string GoldenFile(string name) => Path.Combine(Golden, name);

    /// <summary>
    /// This test run's own folder under the system temp folder. Every temporary folder a test makes lives under it,
    /// and it is removed when the test process exits, so a run leaves nothing behind even where a test forgets.
    /// </summary>
    public static string RunTempRoot { get; } = CreateRunTempRoot();

    /// <summary>
    /// A new empty temporary folder under <see cref="RunTempRoot"/>. Made during a test, it is removed when that test
    /// ends (<see cref="RemoveTestTempFoldersAttribute"/>); made by a fixture, when the run ends.
    /// </summary>
    public static string NewTempDirectory()
    {
        string path = Path.Combine(RunTempRoot, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        RemoveTestTempFoldersAttribute.Track(path);
        return path;
    }

    static string CreateRunTempRoot()
    {
        string root = Path.Combine(Path.GetTempPath(), $"ws-tests-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TempFolder.TryDelete(root);
        return root;
    }

    static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLNet.WeightSelection.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No MLNet.WeightSelection.sln above {AppContext.BaseDirectory}.");
    }
}

/// <summary>A test's own temporary folder, removed with everything in it when disposed.</summary>
public sealed class TempFolder : IDisposable
{
    /// <summary>Makes a new empty folder under <see cref="TestPaths.RunTempRoot"/>.</summary>
    public TempFolder() => Path = TestPaths.NewTempDirectory();

    /// <summary>The folder's full path.</summary>
    public string Path { get; }

    /// <summary>Path of an entry inside the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <inheritdoc/>
    public void Dispose() => TryDelete(Path);

    /// <summary>Deletes a folder tree; a file still open elsewhere (memory-mapped on Windows) leaves it for the run's exit.</summary>
    internal static void TryDelete(string path)
    {
        try { if (Directory.Exists(path)) Directory.Delete(path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <inheritdoc/>
    public override string ToString() => Path;
}

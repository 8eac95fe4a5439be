namespace MLNet.WeightSelection.Tests;

/// <summary>A test's own temporary folder, removed with everything in it when disposed.</summary>
public sealed class TempFolder : IDisposable
{
    /// <summary>
    /// This test process's own folder under the system temp folder. Every temporary folder a test makes lives under it,
    /// and it is removed when the process exits, so a run leaves nothing behind even where a test forgets.
    /// </summary>
    public static string RunRoot { get; } = CreateRunRoot();

    /// <summary>Makes a new empty folder under <see cref="RunRoot"/>.</summary>
    public TempFolder() => Path = CreateUnderRunRoot();

    /// <summary>The folder's full path.</summary>
    public string Path { get; }

    /// <summary>Path of an entry inside the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <inheritdoc/>
    public void Dispose() => TryDelete(Path);

    /// <inheritdoc/>
    public override string ToString() => Path;

    /// <summary>A new empty folder under <see cref="RunRoot"/>, which the caller removes.</summary>
    internal static string CreateUnderRunRoot()
    {
        string path = System.IO.Path.Combine(RunRoot, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Deletes a folder tree; a file still open elsewhere (memory-mapped on Windows) leaves it for the run's exit.</summary>
    internal static void TryDelete(string path)
    {
        try { if (Directory.Exists(path)) Directory.Delete(path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    static string CreateRunRoot()
    {
        string root = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"ws-tests-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(root);
        return root;
    }
}

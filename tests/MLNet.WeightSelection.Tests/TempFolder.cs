namespace MLNet.WeightSelection.Tests;

/// <summary>A temporary folder owned by one test or fixture, removed with everything in it when disposed.</summary>
public sealed class TempFolder : IDisposable
{
    /// <summary>Prefix of every test folder's name under the system temp folder.</summary>
    public const string Prefix = "ws-test-";

    /// <summary>Makes a new empty folder under the system temp folder.</summary>
    public TempFolder() => Path = Create();

    /// <summary>The folder's full path.</summary>
    public string Path { get; }

    /// <summary>Path of an entry inside the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <inheritdoc/>
    public void Dispose() => TryDelete(Path);

    /// <inheritdoc/>
    public override string ToString() => Path;

    /// <summary>A new empty folder under the system temp folder, which the caller removes.</summary>
    internal static string Create()
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), Prefix + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Deletes a folder tree if it is there; a file still open elsewhere (memory-mapped on Windows) leaves it.</summary>
    internal static void TryDelete(string path)
    {
        try { if (Directory.Exists(path)) Directory.Delete(path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

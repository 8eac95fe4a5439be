namespace MLNet.WeightSelection.Cli.Infrastructure;

/// <summary>
/// Several output files that appear together or not at all: each is written to a temporary name beside its target,
/// and only when every one was written are they renamed into place. Disposing without <see cref="Commit"/> deletes
/// the temporaries.
/// </summary>
internal sealed class AtomicOutputs : IDisposable
{
    readonly List<(string Temp, string Target)> _files = new();
    bool _committed;

    /// <summary>Checks that <paramref name="path"/> can be a file (not a folder) and returns its full path.</summary>
    public static string CheckTarget(string path, string option)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new CliException($"{option} is empty; give a file path.");
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new CliException($"{option}: '{full}' is a folder; give a file path.");
        return full;
    }

    /// <summary>Writes one file through <paramref name="write"/>, which receives the temporary path to write.</summary>
    public void Add(string target, Action<string> write)
    {
        string full = Path.GetFullPath(target);
        string folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        string temp = Path.Combine(folder, $".{Path.GetFileNameWithoutExtension(full)}.{Guid.NewGuid():N}.partial{Path.GetExtension(full)}");
        _files.Add((temp, full));
        write(temp);
        if (!File.Exists(temp)) throw new IOException($"Writing '{full}' produced no file.");
    }

    /// <summary>Renames every temporary into place.</summary>
    public void Commit()
    {
        foreach (var (temp, target) in _files) File.Move(temp, target, overwrite: true);
        _committed = true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_committed) return;
        foreach (var (temp, _) in _files)
        {
            try { if (File.Exists(temp)) File.Delete(temp); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}

namespace MLNet.WeightSelection.MLNet;

/// <summary>
/// Checks that files can be created in a folder that may not exist yet, without creating it: a run that would
/// fail to write its checkpoint or outputs should fail before training, and leave nothing on disk.
/// </summary>
internal static class WritableFolder
{
    /// <summary>
    /// Throws <see cref="IOException"/> naming <paramref name="what"/> and the path when <paramref name="folder"/> is a
    /// file, lies under a file, or its nearest existing folder refuses a new file. The probe file is deleted on close.
    /// </summary>
    /// <returns>The folder's full path.</returns>
    public static string Check(string folder, string what)
    {
        if (string.IsNullOrWhiteSpace(folder)) throw new ArgumentException($"{what} is empty; give a folder.");
        string full = Path.GetFullPath(folder);
        string existing = full;
        while (!Directory.Exists(existing))
        {
            if (File.Exists(existing))
                throw new IOException(existing == full
                    ? $"{what} '{full}' is a file; give a folder."
                    : $"{what} '{full}' cannot be created: '{existing}' is a file.");
            existing = Path.GetDirectoryName(existing)
                ?? throw new IOException($"{what} '{full}' cannot be created: its drive or root does not exist.");
        }
        string probe = Path.Combine(existing, $".ws-write-check-{Guid.NewGuid():N}");
        try
        {
            using var _ = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException(
                $"{what} '{full}' is not writable: creating a file in '{existing}' failed ({e.Message}). Give a folder this process can write to.", e);
        }
        return full;
    }
}

using System.Text.Json;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Training;

namespace MLNet.WeightSelection.MLNet;

/// <summary>
/// Decoded images kept on disk between <c>Fit</c> calls (<see cref="WeightSelectionOptions.PixelCacheDirectory"/>): an
/// entry is the planar uint8 pixels (<c>ws-cache-{key}.u8</c>, memory-mapped when used) and a description
/// (<c>ws-cache-{key}.json</c>: labels, skipped rows, format), under the key of <see cref="PixelCacheKey"/>.
/// </summary>
/// <remarks>
/// The pixels are written under a temporary name, flushed to the disk and renamed; the description is written last, the
/// same way, and is what makes an entry exist. A process killed at any point leaves either a whole entry or files no
/// reader trusts: a pixel file without its description (replaced by the next write of that entry), or a temporary file
/// (a pixel file of a dead process is removed by the next write into the folder). An entry
/// whose format, key, sizes or labels do not check out is removed and read again, never used.
/// </remarks>
internal sealed class PixelCache
{
    /// <summary>Bumped whenever an entry's layout changes; older entries are then read again.</summary>
    public const int Format = 1;

    const string Prefix = "ws-cache-";

    public PixelCache(string directory) => Directory = Path.GetFullPath(directory);

    /// <summary>The folder holding the entries.</summary>
    public string Directory { get; }

    /// <summary>The pixel file of <paramref name="key"/>'s entry.</summary>
    public string PixelsPath(string key) => Path.Combine(Directory, $"{Prefix}{key}.u8");

    string DescriptionPath(string key) => Path.Combine(Directory, $"{Prefix}{key}.json");

    /// <summary>A buffer that writes its images straight into this folder, to be committed as an entry.</summary>
    public PixelBuffer NewBuffer(int imageBytes)
    {
        System.IO.Directory.CreateDirectory(Directory); // the folder is made when the first entry is written, not by the check before Fit
        return new(imageBytes, spillBytes: 0, Directory);
    }

    /// <summary>The entry of <paramref name="key"/>, memory-mapped, or null when there is none that checks out.</summary>
    public (ImageRows Rows, ImageTensorDataset Data)? TryOpen(string key, int imageSize, int classCount)
    {
        string description = DescriptionPath(key), pixels = PixelsPath(key);
        if (!File.Exists(description)) return null;
        Entry? entry;
        try
        {
            entry = JsonSerializer.Deserialize<Entry>(File.ReadAllBytes(description));
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            entry = null;
        }
        long imageBytes = 3L * imageSize * imageSize;
        if (entry is null || entry.Format != Format || entry.Key != key || entry.ImageSize != imageSize || entry.Labels is null
            || entry.Labels.Length == 0 || entry.Labels.Any(l => l < 0 || l >= classCount) || entry.Skipped is null
            || !File.Exists(pixels) || new FileInfo(pixels).Length != entry.Labels.Length * imageBytes)
        {
            Remove(key);
            return null;
        }
        var rows = new ImageRows(entry.Labels, imageSize, entry.RowsSeen, entry.Skipped.Select(s => (s.Row, s.Reason)).ToList());
        return (rows, ImageTensorDataset.FromFile(pixels, entry.Labels, imageSize, classCount));
    }

    /// <summary>Commits <paramref name="buffer"/>'s images with <paramref name="rows"/> as <paramref name="key"/>'s entry and maps it.</summary>
    public ImageTensorDataset Commit(string key, PixelBuffer buffer, ImageRows rows, int classCount)
    {
        string pixels = PixelsPath(key);
        File.Delete(DescriptionPath(key)); // an entry being replaced stops existing before its pixels change
        buffer.MoveTo(pixels);
        try
        {
            var entry = new Entry(Format, key, rows.ImageSize, rows.RowsSeen, rows.Labels,
                rows.Skipped.Select(s => new SkippedRow(s.Row, s.Reason)).ToArray());
            AtomicFile.Write(DescriptionPath(key), stream => JsonSerializer.Serialize(stream, entry));
        }
        catch
        {
            Remove(key);
            throw;
        }
        return ImageTensorDataset.FromFile(pixels, rows.Labels, rows.ImageSize, classCount);
    }

    void Remove(string key)
    {
        foreach (var path in new[] { DescriptionPath(key), PixelsPath(key) })
        {
            try { File.Delete(path); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    sealed record Entry(int Format, string Key, int ImageSize, long RowsSeen, long[] Labels, SkippedRow[] Skipped);

    sealed record SkippedRow(long Row, string Reason);
}

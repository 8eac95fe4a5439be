using MLNet.WeightSelection.Training;

namespace MLNet.WeightSelection.MLNet;

/// <summary>
/// Collects decoded images (planar uint8) as they are read: in memory while they are few, then in a file on disk once
/// they pass <see cref="SpillBytes"/>, so a data set is not capped by .NET's 2 GB array limit and never has to fit in
/// this process's memory. The file is memory-mapped by the dataset it becomes, and removed from the directory as soon
/// as it is mapped (Linux keeps the pages readable until the mapping goes), so nothing is left on disk, even by a
/// process that is killed later; only a kill while it is being written can leave one, under a name
/// <see cref="RemoveStale"/> recognizes.
/// </summary>
internal sealed class PixelBuffer : IDisposable
{
    /// <summary>The file names this buffer writes (<c>ws-pixels-{process id}-{guid}.u8</c>).</summary>
    public const string FilePrefix = "ws-pixels-";

    readonly int _imageBytes;
    readonly string _directory;
    readonly Func<string, FileStream> _createFile;
    byte[] _memory = Array.Empty<byte>();
    long _length;
    FileStream? _file;
    string? _path;
    bool _finished;

    /// <param name="imageBytes">Bytes per image (3 × side²).</param>
    /// <param name="spillBytes">Bytes kept in memory before the images move to a file.</param>
    /// <param name="directory">Where the file goes; the system's temporary folder when null.</param>
    /// <param name="createFile">Creates the file at a path (for tests, which stand a full disk in for it).</param>
    public PixelBuffer(int imageBytes, long spillBytes, string? directory = null, Func<string, FileStream>? createFile = null)
    {
        _imageBytes = imageBytes;
        SpillBytes = Math.Min(spillBytes, Array.MaxLength);
        _directory = directory ?? Path.GetTempPath();
        _createFile = createFile ?? (path => new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 20));
    }

    /// <summary>
    /// The default spill point, 64 MiB: small data (tests, the sample) never touches the disk; anything larger goes to
    /// the file, which costs less memory (the growing array and its copy into a tensor, about 5 times the pixels at
    /// the peak, are gone) at the same speed: in bench data-scale, 20,000 images at 64 px peaked at 1.2 GB of the
    /// process's own memory in memory and 0.14 GB through the file, with the data share of step time under 1% either
    /// way. The environment variable <c>WS_PIXELS_IN_MEMORY_MAX</c> (bytes) moves it; 0 always uses a file.
    /// </summary>
    public static long DefaultSpillBytes =>
        long.TryParse(Environment.GetEnvironmentVariable("WS_PIXELS_IN_MEMORY_MAX"), out long v) && v >= 0 ? v : 64L << 20;

    /// <summary>Bytes kept in memory before the images move to a file.</summary>
    public long SpillBytes { get; }

    /// <summary>Images appended.</summary>
    public long Count => _length / _imageBytes;

    /// <summary>True once the images have moved to a file.</summary>
    public bool OnDisk => _file is not null;

    /// <summary>True when some byte appended so far is above 1 (the pixels are not scaled to 0–1).</summary>
    public bool AnyAboveOne { get; private set; }

    /// <summary>Appends one image of <c>imageBytes</c> bytes.</summary>
    /// <exception cref="IOException">The file could not be written (a full disk); the message names it, and it is removed.</exception>
    public void Append(ReadOnlySpan<byte> image)
    {
        if (image.Length != _imageBytes) throw new ArgumentException($"An image has {_imageBytes} bytes; got {image.Length}.", nameof(image));
        if (!AnyAboveOne)
            foreach (byte b in image)
                if (b > 1) { AnyAboveOne = true; break; }

        if (_file is null && _length + _imageBytes > SpillBytes) Spill();
        if (_file is not null)
        {
            Write(image);
        }
        else
        {
            if (_length + _imageBytes > _memory.LongLength)
                Array.Resize(ref _memory, (int)Math.Min(SpillBytes, Math.Max(_length + _imageBytes, Math.Max(64L * _imageBytes, _memory.LongLength * 2))));
            image.CopyTo(_memory.AsSpan((int)_length, _imageBytes));
        }
        _length += _imageBytes;
    }

    /// <summary>
    /// The dataset of the appended images with <paramref name="labels"/>: from memory, or memory-mapped from the file
    /// (which is then removed from its directory). This buffer is finished after it.
    /// </summary>
    public ImageTensorDataset ToDataset(long[] labels, int imageSize, int numClasses)
    {
        if (_finished) throw new InvalidOperationException("The buffer has already made its dataset.");
        _finished = true;
        if (_file is null)
        {
            if (_memory.LongLength != _length) Array.Resize(ref _memory, (int)_length);
            var memory = _memory;
            _memory = Array.Empty<byte>();
            return ImageTensorDataset.FromPixels(memory, labels, imageSize, numClasses);
        }

        string path = CloseFile(flushToDisk: false);
        try
        {
            var dataset = ImageTensorDataset.FromFile(path, labels, imageSize, numClasses, released: () => TryDelete(path));
            TryDelete(path); // the mapping keeps the pages; the name can go now (on Windows this fails, and released retries)
            return dataset;
        }
        catch
        {
            TryDelete(path);
            throw;
        }
    }

    /// <summary>
    /// Moves the file of the appended images to <paramref name="path"/> (replacing what is there), written through to
    /// the disk first, so that a cache entry committed after it never points at pixels a crash could lose. The images
    /// must be on disk (a buffer made with spill bytes 0). This buffer is finished after it.
    /// </summary>
    public void MoveTo(string path)
    {
        if (_finished) throw new InvalidOperationException("The buffer is already finished.");
        if (_file is null) throw new InvalidOperationException("The images are in memory; only a file can be moved.");
        _finished = true;
        string from = CloseFile(flushToDisk: true);
        try
        {
            File.Move(from, path, overwrite: true);
        }
        catch
        {
            TryDelete(from);
            throw;
        }
    }

    /// <summary>Removes pixel files in <paramref name="directory"/> left by processes that no longer run.</summary>
    public static void RemoveStale(string? directory = null)
    {
        directory ??= Path.GetTempPath();
        try
        {
            foreach (var file in Directory.EnumerateFiles(directory, FilePrefix + "*.u8"))
            {
                var parts = Path.GetFileName(file)[FilePrefix.Length..].Split('-', 2);
                if (parts.Length == 2 && int.TryParse(parts[0], out int pid) && !ProcessRuns(pid)) TryDelete(file);
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _finished = true;
        _memory = Array.Empty<byte>();
        if (_file is null) return;
        try
        {
            _file.Dispose();
        }
        catch (IOException)
        {
            // Closing flushes what is still buffered, and on a full disk that fails again; the file is removed anyway.
        }
        _file = null;
        TryDelete(_path!);
        _path = null;
    }

    void Spill()
    {
        RemoveStale(_directory);
        _path = Path.Combine(_directory, $"{FilePrefix}{Environment.ProcessId}-{Guid.NewGuid():N}.u8");
        try
        {
            _file = _createFile(_path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string path = _path;
            _path = null;
            throw new IOException($"Cannot create the pixel file '{path}' for {Count} images and more: {e.Message} "
                + "Set WS_PIXELS_IN_MEMORY_MAX (bytes) to keep more in memory, or free the temporary folder.", e);
        }
        Write(_memory.AsSpan(0, (int)_length));
        _memory = Array.Empty<byte>();
    }

    /// <summary>Flushes and closes the file (a full disk fails here with the file named), and returns its path.</summary>
    string CloseFile(bool flushToDisk)
    {
        try
        {
            _file!.Flush(flushToDisk);
        }
        catch (IOException e)
        {
            throw Failed(e);
        }
        _file.Dispose();
        _file = null;
        string path = _path!;
        _path = null;
        return path;
    }

    void Write(ReadOnlySpan<byte> bytes)
    {
        try
        {
            _file!.Write(bytes);
        }
        catch (IOException e)
        {
            throw Failed(e);
        }
    }

    IOException Failed(IOException e)
    {
        string path = _path ?? "(pixel file)";
        Dispose();
        return new IOException($"Writing the pixel file '{path}' failed after {Count} images ({_length:N0} bytes): {e.Message} "
            + "It was removed. Free space in that folder (the system's temporary folder) and run again.", e);
    }

    static bool ProcessRuns(int pid)
    {
        if (OperatingSystem.IsLinux()) return Directory.Exists($"/proc/{pid}");
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

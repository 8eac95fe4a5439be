using System.Collections;
using System.Collections.Specialized;
using System.Runtime.CompilerServices;
using Razorvine.Pickle;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Checkpoints;

/// <summary>
/// PyTorch checkpoints written by <c>torch.save</c> (<c>.pt</c>, <c>.pth</c>, <c>.bin</c>), read and written through
/// TorchSharp.PyBridge. Training checkpoints that wrap the weights (<c>{'model': ...}</c>,
/// <c>{'state_dict': ...}</c>) are unwrapped, and DataParallel's <c>module.</c> prefix is removed.
/// </summary>
public static class PyTorchCheckpoint
{
    /// <summary>Entries searched, in order, for the state dict inside a training checkpoint.</summary>
    public static IReadOnlyList<string> WrapperKeys { get; } = new[] { "model", "state_dict", "module" };

    const string DataParallelPrefix = "module.";

    static PyTorchCheckpoint()
    {
        // PyBridge reads OrderedDicts into Hashtables, which lose the key order. Registering after PyBridge's own
        // registration (its static constructor) swaps in a Hashtable that also recovers the pickled order.
        RuntimeHelpers.RunClassConstructor(typeof(PyTorchUnpickler).TypeHandle);
        Unpickler.registerConstructor("collections", "OrderedDict", PickledOrderedDict.Constructor);
    }

    /// <summary>
    /// Loads the state dict stored in <paramref name="path"/>. Without <paramref name="entry"/>, the first of
    /// <see cref="WrapperKeys"/> that holds a dict of tensors is used, else the top-level dict when it holds tensors;
    /// other entries (such as <c>model_ema</c>) are never chosen silently. Entries that are not tensors are skipped.
    /// </summary>
    /// <param name="path">The checkpoint file (a zip archive, as torch.save has written since PyTorch 1.6).</param>
    /// <param name="entry">The top-level entry that holds the state dict (for example <c>model_ema</c>), or null to search.</param>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a readable PyTorch checkpoint or holds no state dict; the message names the file.</exception>
    public static StateDict Load(string path, string? entry = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"No PyTorch checkpoint at '{full}'.", full);

        Hashtable root;
        using (var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            CheckArchive(stream, full);
            try
            {
                root = PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw Invalid(full, $"it could not be unpickled as a state dict ({e.GetType().Name}: {e.Message})", e);
            }
        }

        StateDict? result = null;
        try
        {
            result = Extract(root, full, entry);
            return result;
        }
        finally
        {
            DisposeUntaken(root, result);
        }
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> as a PyTorch checkpoint that <c>torch.load</c> reads as a dict of tensors
    /// (ready for <c>model.load_state_dict</c>). The file is written to a temporary name and renamed.
    /// </summary>
    /// <exception cref="ArgumentException">A key is repeated or empty, or a tensor's element type is not supported.</exception>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var dict = new OrderedDictionary(StringComparer.Ordinal);
        var owned = new List<Tensor>();
        try
        {
            foreach (var (key, value) in tensors)
            {
                if (string.IsNullOrEmpty(key)) throw new ArgumentException("A tensor has an empty key.", nameof(tensors));
                if (dict.Contains(key)) throw new ArgumentException($"Key '{key}' appears more than once.", nameof(tensors));
                ArgumentNullException.ThrowIfNull(value, key);
                if (!DType.IsSupported(value.dtype))
                    throw new ArgumentException($"Tensor '{key}' has element type {value.dtype}; supported: {string.Join(", ", DType.Supported)}.", nameof(tensors));
                // The pickler records stride and storage offset but writes only the tensor's own bytes, so give it a
                // dense CPU tensor at the start of its storage; detached, so PyTorch reads plain tensors.
                var stored = value.detach();
                if (stored.device_type != TorchSharp.DeviceType.CPU) Replace(ref stored, stored.cpu());
                if (!stored.is_contiguous()) Replace(ref stored, stored.contiguous());
                if (stored.storage_offset() != 0) Replace(ref stored, stored.clone());
                owned.Add(stored);
                dict.Add(key, stored);
            }
            AtomicFile.Write(path, stream => PyTorchPickler.PickleStateDict(stream, dict, leaveOpen: true));
        }
        finally
        {
            foreach (var t in owned) t.Dispose();
        }
    }

    static void Replace(ref Tensor t, Tensor replacement)
    {
        if (!ReferenceEquals(t, replacement)) t.Dispose();
        t = replacement;
    }

    static void CheckArchive(Stream stream, string file)
    {
        Span<byte> magic = stackalloc byte[4];
        int read = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        stream.Position = 0;
        if (read == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4) return;
        if (read >= 2 && magic[0] == 0x80 && magic[1] <= 5)
            throw Invalid(file, "it is a plain pickle (PyTorch's legacy format before 1.6, or not a torch.save file); re-save it with torch.save in PyTorch 1.6 or later, or convert it to safetensors");
        throw Invalid(file, "it is not a zip archive, which torch.save writes");
    }

    static StateDict Extract(Hashtable root, string file, string? entry)
    {
        IDictionary chosen;
        if (entry is not null)
        {
            chosen = root[entry] as IDictionary
                ?? throw Invalid(file, $"it has no dict entry '{entry}' (top-level keys: {DescribeKeys(root)})");
        }
        else
        {
            chosen = WrapperKeys.Select(k => root[k] as IDictionary).FirstOrDefault(d => d is not null && HoldsTensors(d))
                ?? (HoldsTensors(root) ? root
                    : throw Invalid(file, $"it holds no state dict: no '{string.Join("', '", WrapperKeys)}' entry with tensors and no tensors at the top level (top-level keys: {DescribeKeys(root)}); pass the entry to use, such as 'model_ema'"));
        }

        var keys = chosen is PickledOrderedDict ordered ? ordered.KeysInPickleOrder()
            : chosen.Keys.Cast<object>().OrderBy(k => k as string, StringComparer.Ordinal).ToList();
        var result = new StateDict(file);
        try
        {
            foreach (var key in keys)
            {
                if (key is not string name || chosen[key] is not Tensor t) continue;
                if (name.StartsWith(DataParallelPrefix, StringComparison.Ordinal)) name = name[DataParallelPrefix.Length..];
                if (result.Contains(name))
                    throw Invalid(file, $"key '{name}' appears both with and without the '{DataParallelPrefix}' prefix");
                result.Add(name, t);
            }
            if (result.Count == 0) throw Invalid(file, $"entry '{entry}' holds no tensors");
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    static bool HoldsTensors(IDictionary d)
    {
        foreach (DictionaryEntry e in d) if (e.Key is string && e.Value is Tensor) return true;
        return false;
    }

    static string DescribeKeys(IDictionary d)
    {
        var keys = d.Keys.Cast<object>().Select(k => $"'{k}'").Take(20).ToList();
        return keys.Count == 0 ? "none" : string.Join(", ", keys) + (d.Count > 20 ? ", ..." : "");
    }

    // Disposes every tensor of the unpickled graph that did not end up in the result (optimizer state, EMA copies).
    static void DisposeUntaken(object root, StateDict? taken)
    {
        var keep = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        if (taken is not null) foreach (var (_, t) in taken) keep.Add(t);
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<object>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var o = pending.Pop();
            if (!visited.Add(o)) continue;
            switch (o)
            {
                case Tensor t:
                    if (!keep.Contains(t)) t.Dispose();
                    break;
                case IDictionary d:
                    foreach (DictionaryEntry e in d) if (e.Value is not null) pending.Push(e.Value);
                    break;
                case string:
                    break;
                case IEnumerable items:
                    foreach (var item in items) if (item is not null) pending.Push(item);
                    break;
            }
        }
    }

    static InvalidDataException Invalid(string file, string problem, Exception? inner = null) =>
        new($"Cannot load PyTorch checkpoint '{file}': {problem}.", inner);
}

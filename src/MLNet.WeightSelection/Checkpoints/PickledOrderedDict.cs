using System.Collections;
using Razorvine.Pickle;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Checkpoints;

/// <summary>
/// Stands in for Python's <c>collections.OrderedDict</c> while a PyTorch checkpoint is unpickled: a Hashtable, as
/// PyBridge expects, that also recovers the order in which the keys were pickled (a state dict's module order).
/// </summary>
/// <remarks>
/// The unpickler (Razorvine.Pickle) applies each SETITEMS batch of a dict last item first. Batches are told apart by
/// a per-thread count of OrderedDicts built so far: torch pickles an empty OrderedDict (backward hooks) with every
/// tensor, so the count moves between two batches but not inside one.
/// </remarks>
internal sealed class PickledOrderedDict : Hashtable
{
    [ThreadStatic] static long t_constructed;

    readonly List<(object Key, long Batch)> _inserted = new();

    /// <summary>The constructor to register for <c>collections.OrderedDict</c>.</summary>
    public static IObjectConstructor Constructor { get; } = new OrderedDictConstructor();

    /// <summary>The keys in the order they were pickled.</summary>
    public IReadOnlyList<object> KeysInPickleOrder()
    {
        var keys = new List<object>(_inserted.Count);
        for (int start = 0; start < _inserted.Count;)
        {
            int end = start;
            while (end < _inserted.Count && _inserted[end].Batch == _inserted[start].Batch) end++;
            for (int i = end - 1; i >= start; i--) keys.Add(_inserted[i].Key);
            start = end;
        }
        return keys;
    }

    public override object? this[object key]
    {
        get => base[key];
        set
        {
            if (!ContainsKey(key)) _inserted.Add((key, t_constructed));
            base[key] = value;
        }
    }

    public override void Add(object key, object? value)
    {
        base.Add(key, value);
        _inserted.Add((key, t_constructed));
    }

    public override void Remove(object key)
    {
        base.Remove(key);
        _inserted.RemoveAll(e => Equals(e.Key, key));
    }

    public override void Clear()
    {
        base.Clear();
        _inserted.Clear();
    }

    /// <summary>
    /// Called by the unpickler with the OrderedDict's instance attributes (torch's <c>_metadata</c>). Only tensors
    /// belong in a state dict, as in PyBridge's own OrderedDict.
    /// </summary>
    public void __setstate__(Hashtable state)
    {
        foreach (DictionaryEntry e in state)
            if (e.Value is Tensor) this[e.Key] = e.Value;
    }

    sealed class OrderedDictConstructor : IObjectConstructor
    {
        public object construct(object[] args)
        {
            t_constructed++;
            return new PickledOrderedDict();
        }
    }
}

namespace MLNet.WeightSelection.Selection;

/// <summary>How layer selection picks teacher layers.</summary>
public enum LayerSelectionMethod
{
    /// <summary>Student layer i takes teacher layer i (the paper's default; per stage in hierarchical models).</summary>
    FirstN,

    /// <summary>Evenly spaced teacher layers, first and last included: <c>round(linspace(0, t - 1, s))</c>.</summary>
    Uniform,

    /// <summary>A centred run of consecutive teacher layers.</summary>
    Middle,

    /// <summary>The last s teacher layers.</summary>
    Last,

    /// <summary>A given map per layer group.</summary>
    Explicit,
}

/// <summary>
/// Step 1 of weight selection: for each layer group (a ViT's blocks; a stage's blocks in ConvNeXt or ResNet),
/// which teacher layer each student layer takes.
/// </summary>
public sealed class LayerSelection
{
    readonly IReadOnlyDictionary<string, int[]>? _map;
    readonly LayerSelection? _otherwise;

    LayerSelection(LayerSelectionMethod method, IReadOnlyDictionary<string, int[]>? map = null, LayerSelection? otherwise = null)
    {
        Method = method;
        _map = map;
        _otherwise = otherwise;
    }

    /// <summary>First-N: student layer i takes teacher layer i (default).</summary>
    public static LayerSelection FirstN { get; } = new(LayerSelectionMethod.FirstN);

    /// <summary>Evenly spaced teacher layers, first and last included (round half to even).</summary>
    public static LayerSelection Uniform { get; } = new(LayerSelectionMethod.Uniform);

    /// <summary>A centred run of consecutive teacher layers (starting at ⌊(t − s) / 2⌋).</summary>
    public static LayerSelection Middle { get; } = new(LayerSelectionMethod.Middle);

    /// <summary>The last s teacher layers.</summary>
    public static LayerSelection Last { get; } = new(LayerSelectionMethod.Last);

    /// <summary>
    /// An explicit map: layer group name (<c>blocks</c>, <c>stages.2.blocks</c>, <c>layer3</c>) → the teacher layer of
    /// each student layer. Groups the map does not name use <paramref name="otherwise"/>, or are an error when it is null.
    /// </summary>
    public static LayerSelection Explicit(IReadOnlyDictionary<string, int[]> map, LayerSelection? otherwise = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        return new(LayerSelectionMethod.Explicit, map.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray(), StringComparer.Ordinal), otherwise);
    }

    /// <summary>The method.</summary>
    public LayerSelectionMethod Method { get; }

    /// <summary>The layer groups an explicit map names (empty for the other methods), so a misspelt group is caught.</summary>
    internal IReadOnlyCollection<string> ExplicitGroups => _map is null ? Array.Empty<string>() : _map.Keys.ToArray();

    /// <summary>
    /// The teacher layer for each of <paramref name="studentLayers"/> student layers of <paramref name="group"/>,
    /// which has <paramref name="teacherLayers"/> teacher layers.
    /// </summary>
    /// <exception cref="ArgumentException">The student has more layers than the teacher, or an explicit map does
    /// not fit the group; the message names the group.</exception>
    public int[] Choose(string group, int teacherLayers, int studentLayers)
    {
        if (studentLayers > teacherLayers)
            throw new ArgumentException($"Layer group '{group}': the student has {studentLayers} layers, the teacher only {teacherLayers}.");
        switch (Method)
        {
            case LayerSelectionMethod.FirstN: return Enumerable.Range(0, studentLayers).ToArray();
            case LayerSelectionMethod.Uniform: return ElementSelection.RoundedLinspace(teacherLayers, studentLayers).Select(i => (int)i).ToArray();
            case LayerSelectionMethod.Middle: return Enumerable.Range((teacherLayers - studentLayers) / 2, studentLayers).ToArray();
            case LayerSelectionMethod.Last: return Enumerable.Range(teacherLayers - studentLayers, studentLayers).ToArray();
        }
        if (!_map!.TryGetValue(group, out var chosen))
            return _otherwise?.Choose(group, teacherLayers, studentLayers)
                ?? throw new ArgumentException($"Layer group '{group}' is not in the explicit layer map (it names {string.Join(", ", _map.Keys)}).");
        if (chosen.Length != studentLayers)
            throw new ArgumentException($"Layer group '{group}': the explicit map gives {chosen.Length} teacher layers for {studentLayers} student layers.");
        int bad = Array.FindIndex(chosen, i => i < 0 || i >= teacherLayers);
        if (bad >= 0)
            throw new ArgumentException($"Layer group '{group}': the explicit map names teacher layer {chosen[bad]}, but the teacher has layers 0..{teacherLayers - 1}.");
        return chosen.ToArray();
    }

    /// <inheritdoc />
    public override string ToString() => Method switch
    {
        LayerSelectionMethod.FirstN => "first-n",
        LayerSelectionMethod.Uniform => "uniform",
        LayerSelectionMethod.Middle => "middle",
        LayerSelectionMethod.Last => "last",
        _ => "explicit(" + string.Join("; ", _map!.Select(kv => $"{kv.Key}: {string.Join(",", kv.Value)}"))
             + (_otherwise is null ? "" : $"; otherwise {_otherwise}") + ")",
    };
}

namespace MLNet.WeightSelection.Selection;

/// <summary>One tensor axis tied to a width, with the sizes it gives the width.</summary>
internal sealed record WidthUse(string Key, int Axis, long TeacherSize, long StudentSize);

/// <summary>A named width: its sizes in teacher and student, every axis tied to it, and its one index set.</summary>
internal sealed class Width
{
    public Width(string name) => Name = name;

    public string Name { get; }

    /// <summary>Other names tied to this width (by a residual connection).</summary>
    public SortedSet<string> Aliases { get; } = new(StringComparer.Ordinal);

    public List<WidthUse> Uses { get; } = new();

    public long TeacherSize => Uses[0].TeacherSize;

    public long StudentSize => Uses[0].StudentSize;

    /// <summary>An attention inner width (heads × head_dim).</summary>
    public bool IsAttention { get; set; }

    /// <summary>For an attention width, the width with one entry per head (its sizes are the head counts), if the schema names one.</summary>
    public Width? HeadCount { get; set; }

    /// <summary>The teacher indices the student keeps, ascending in the usual methods; set once per width.</summary>
    public long[]? Indices { get; set; }

    public bool KeepsAll => TeacherSize == StudentSize && Indices is { } idx && idx.Select((v, i) => v == i).All(b => b);
}

/// <summary>
/// The widths of one selection: a union-find over width names (ties make two names one width) and, per width, the
/// axes tied to it. Consistency follows by construction: each width gets one index set.
/// </summary>
internal sealed class WidthTable
{
    readonly Dictionary<string, string> _parent = new(StringComparer.Ordinal);
    readonly Dictionary<string, Width> _widths = new(StringComparer.Ordinal);
    readonly List<Width> _ordered = new();

    public IReadOnlyList<Width> All => _ordered;

    public string Root(string name)
    {
        var path = new List<string>();
        while (_parent.TryGetValue(name, out var parent) && parent != name)
        {
            path.Add(name);
            name = parent;
        }
        foreach (var p in path) _parent[p] = name;
        return name;
    }

    /// <summary>Makes <see cref="WidthTie.SameAs"/> the same width as <see cref="WidthTie.Width"/>. Ties come before uses.</summary>
    public void Tie(WidthTie tie)
    {
        if (_widths.Count > 0) throw new InvalidOperationException("Width ties must be declared before widths are used.");
        string a = Root(tie.Width), b = Root(tie.SameAs);
        if (a != b) _parent[b] = a;
    }

    /// <summary>The width <paramref name="name"/> belongs to, or null when no tensor uses it.</summary>
    public Width? Find(string name) => _widths.GetValueOrDefault(Root(name));

    public Width Use(string name, string key, int axis, long teacherSize, long studentSize)
    {
        string root = Root(name);
        if (!_widths.TryGetValue(root, out var width))
        {
            _widths[root] = width = new Width(root);
            _ordered.Add(width);
        }
        if (name != root) width.Aliases.Add(name);
        width.Uses.Add(new WidthUse(key, axis, teacherSize, studentSize));
        return width;
    }

    /// <summary>Reports widths whose tensors disagree on a size, and student widths larger than the teacher's.</summary>
    public void Check(ICollection<SelectionProblem> problems)
    {
        foreach (var width in _ordered)
        {
            if (width.Uses.Select(u => (u.TeacherSize, u.StudentSize)).Distinct().Count() > 1)
            {
                problems.Add(new(SelectionProblemKind.InconsistentWidth, width.Name,
                    "the tensors tied to this width disagree on its size (teacher -> student): "
                    + string.Join("; ", width.Uses.Select(u => $"{u.Key} axis {u.Axis}: {u.TeacherSize} -> {u.StudentSize}"))));
                continue;
            }
            if (width.StudentSize > width.TeacherSize)
                foreach (var use in width.Uses)
                    problems.Add(new(SelectionProblemKind.StudentLargerThanTeacher, use.Key,
                        $"axis {use.Axis} (width '{width.Name}') is {use.StudentSize} in the student but {use.TeacherSize} in the teacher"));
        }
    }
}

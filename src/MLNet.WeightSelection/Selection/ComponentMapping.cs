using System.Globalization;

namespace MLNet.WeightSelection.Selection;

/// <summary>The layers chosen in one layer group.</summary>
/// <param name="Group">The group's name: the key prefix before the layer number (<c>blocks</c>, <c>stages.2.blocks</c>, <c>layer3</c>).</param>
/// <param name="TeacherLayers">Number of teacher layers in the group.</param>
/// <param name="StudentLayers">Number of student layers in the group.</param>
/// <param name="TeacherIndices">The teacher layer each student layer takes.</param>
public sealed record LayerMap(string Group, int TeacherLayers, int StudentLayers, int[] TeacherIndices);

/// <summary>
/// Step 2 of weight selection: which teacher tensor each student tensor comes from. Inside a layer the components
/// map one-to-one by role: the same name in the same family, with the layer number replaced by the teacher layer that
/// layer selection chose. Family rules map the remaining differences (a 1×1 convolution onto a Linear layer).
/// </summary>
public sealed class ComponentMapping
{
    readonly Dictionary<string, LayerMap> _groups;

    ComponentMapping(SelectionSchema schema, Dictionary<string, LayerMap> groups)
    {
        Schema = schema;
        _groups = groups;
    }

    /// <summary>The schema whose rules this mapping applies.</summary>
    public SelectionSchema Schema { get; }

    /// <summary>The layer selection of every group the student has.</summary>
    public IReadOnlyList<LayerMap> Layers => _groups.Values.OrderBy(g => g.Group, StringComparer.Ordinal).ToArray();

    /// <summary>
    /// Runs layer selection on every layer group of <paramref name="studentKeys"/> against <paramref name="teacherKeys"/>.
    /// </summary>
    /// <exception cref="WeightSelectionException">A student group has more layers than the teacher's, or an explicit
    /// map does not fit; every such group is listed.</exception>
    public static ComponentMapping Create(SelectionSchema schema, IEnumerable<string> teacherKeys,
        IEnumerable<string> studentKeys, LayerSelection layerSelection)
    {
        var problems = new List<SelectionProblem>();
        var mapping = Create(schema, teacherKeys, studentKeys, layerSelection, problems);
        if (problems.Count > 0) throw new WeightSelectionException("teacher", problems);
        return mapping;
    }

    internal static ComponentMapping Create(SelectionSchema schema, IEnumerable<string> teacherKeys,
        IEnumerable<string> studentKeys, LayerSelection layerSelection, ICollection<SelectionProblem> problems)
    {
        var teacherCounts = CountLayers(schema, teacherKeys);
        var studentCounts = CountLayers(schema, studentKeys);
        var groups = new Dictionary<string, LayerMap>(StringComparer.Ordinal);
        foreach (var (group, studentLayers) in studentCounts)
        {
            int teacherLayers = teacherCounts.GetValueOrDefault(group);
            if (studentLayers > teacherLayers)
            {
                problems.Add(new(SelectionProblemKind.StudentLargerThanTeacher, group,
                    $"the student has {studentLayers} layers in this group, the teacher {teacherLayers}"));
                continue;
            }
            try
            {
                groups[group] = new LayerMap(group, teacherLayers, studentLayers, layerSelection.Choose(group, teacherLayers, studentLayers));
            }
            catch (ArgumentException e)
            {
                problems.Add(new(SelectionProblemKind.InvalidOptions, group, e.Message));
            }
        }
        foreach (var named in layerSelection.ExplicitGroups.Where(g => !studentCounts.ContainsKey(g)))
            problems.Add(new(SelectionProblemKind.InvalidOptions, named,
                $"the explicit layer map names layer group '{named}', which the student does not have (its groups: {string.Join(", ", studentCounts.Keys.Order(StringComparer.Ordinal))})"));
        return new ComponentMapping(schema, groups);
    }

    /// <summary>
    /// The teacher key <paramref name="studentKey"/> comes from, or null when its layer group has no layer map
    /// (a problem already reported by <see cref="Create(SelectionSchema, IEnumerable{string}, IEnumerable{string}, LayerSelection)"/>).
    /// </summary>
    public string? TeacherKey(string studentKey)
    {
        if (!TryLocate(Schema, studentKey, out string group, out int layer, out int at, out int length)) return studentKey;
        if (!_groups.TryGetValue(group, out var map)) return null;
        return string.Concat(studentKey.AsSpan(0, at), map.TeacherIndices[layer].ToString(CultureInfo.InvariantCulture),
            studentKey.AsSpan(at + length));
    }

    /// <summary>
    /// The student's shape expressed in the teacher tensor's rank: the student shape itself when the ranks agree;
    /// padded with, or stripped of, trailing size-1 axes when the family allows it for this key (ConvNeXt's conv_mlp);
    /// otherwise null (a rank mismatch).
    /// </summary>
    public long[]? StudentShapeInTeacherRank(string studentKey, IReadOnlyList<long> studentShape, IReadOnlyList<long> teacherShape)
    {
        if (studentShape.Count == teacherShape.Count) return studentShape.ToArray();
        if (!Schema.AllowsReshape(studentKey)) return null;
        var (longer, shorter) = studentShape.Count > teacherShape.Count ? (studentShape, teacherShape) : (teacherShape, studentShape);
        if (shorter.Count == 0 || longer.Skip(shorter.Count).Any(d => d != 1)) return null;
        return teacherShape.Count > studentShape.Count
            ? studentShape.Concat(Enumerable.Repeat(1L, teacherShape.Count - studentShape.Count)).ToArray()
            : studentShape.Take(teacherShape.Count).ToArray();
    }

    static Dictionary<string, int> CountLayers(SelectionSchema schema, IEnumerable<string> keys)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var key in keys)
            if (TryLocate(schema, key, out string group, out int layer, out _, out _))
                counts[group] = Math.Max(counts.GetValueOrDefault(group), layer + 1);
        return counts;
    }

    // Finds the layer number of a key: the last placeholder of the first layer-group pattern that matches.
    static bool TryLocate(SelectionSchema schema, string key, out string group, out int layer, out int at, out int length)
    {
        foreach (var pattern in schema.LayerGroupPatterns)
        {
            var m = pattern.Match(key);
            if (!m.Success) continue;
            var number = m.Groups[pattern.Names[^1]];
            at = number.Index;
            length = number.Length;
            group = key[..at].TrimEnd('.');
            layer = int.Parse(number.Value, CultureInfo.InvariantCulture);
            return true;
        }
        (group, layer, at, length) = ("", -1, 0, 0);
        return false;
    }
}

using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.WeightSelection.MLNet;

/// <summary>
/// The label column: a key type with <see cref="ClassCount"/> classes and, usually, the key values that
/// <c>MapValueToKey</c> attached (class names, in key order). Score slots and PredictedLabel keys follow this order.
/// </summary>
internal sealed class LabelColumn
{
    LabelColumn(string name, KeyDataViewType type, DataViewSchema.Column column)
    {
        Name = name;
        Type = type;
        ClassCount = checked((int)type.Count);
        var kv = column.Annotations.Schema.GetColumnOrNull(AnnotationKinds.KeyValues);
        if (kv?.Type is VectorDataViewType { IsKnownSize: true } kvType && kvType.Size == ClassCount)
        {
            KeyValuesType = kvType;
            (KeyValues, Names) = ReadKeyValues(column, kvType);
        }
        else
        {
            Names = Enumerable.Range(0, ClassCount).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        }
    }

    /// <summary>Column name.</summary>
    public string Name { get; }

    /// <summary>The label's key type.</summary>
    public KeyDataViewType Type { get; }

    /// <summary>Number of classes (the key count).</summary>
    public int ClassCount { get; }

    /// <summary>Type of the KeyValues annotation, or null when the key has none.</summary>
    public VectorDataViewType? KeyValuesType { get; }

    /// <summary>The KeyValues annotation as a boxed <c>VBuffer&lt;T&gt;</c>, or null when absent.</summary>
    public object? KeyValues { get; }

    /// <summary>The class names as text when the key values are text (what multiclass trainers use for SlotNames), else null.</summary>
    public string[]? TextNames => KeyValues is VBuffer<ReadOnlyMemory<char>> text
        ? text.DenseValues().Select(v => v.ToString()).ToArray() : null;

    /// <summary>Display names of the classes in key order: the key values as text, or "0", "1", ... when there are none.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Checks the label on a schema shape: present, scalar, key-typed; the error tells how to fix each case.</summary>
    public static void Validate(SchemaShape schema, string name)
    {
        if (schema.FirstOrDefault(c => c.Name == name) is not { Name: not null } col)
            throw new ArgumentOutOfRangeException(nameof(schema),
                $"The label column '{name}' is missing from the input. Set LabelColumnName to the column that holds the classes.");
        if (col.Kind != SchemaShape.Column.VectorKind.Scalar || !col.IsKey)
            throw new ArgumentOutOfRangeException(nameof(schema),
                $"The label column '{name}' must be a key type, but it is {(col.Kind == SchemaShape.Column.VectorKind.Scalar ? col.ItemType.ToString() : "a vector")}. " +
                $"Add ml.Transforms.Conversion.MapValueToKey(\"{name}\") before this estimator, so each class gets a key and Score slots a class name.");
    }

    /// <summary>Reads the label from a real schema; throws as <see cref="Validate"/> does.</summary>
    public static LabelColumn Inspect(DataViewSchema schema, string name)
    {
        var col = schema.GetColumnOrNull(name)
            ?? throw new ArgumentOutOfRangeException(nameof(schema),
                $"The label column '{name}' is missing from the input. Set LabelColumnName to the column that holds the classes.");
        if (col.Type is not KeyDataViewType key)
            throw new ArgumentOutOfRangeException(nameof(schema),
                $"The label column '{name}' must be a key type, but it is {col.Type}. " +
                $"Add ml.Transforms.Conversion.MapValueToKey(\"{name}\") before this estimator, so each class gets a key and Score slots a class name.");
        if (key.Count > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(schema), $"The label column '{name}' has {key.Count} keys; at most {int.MaxValue} classes are supported.");
        return new LabelColumn(name, key, col);
    }

    static (object, string[]) ReadKeyValues(DataViewSchema.Column column, VectorDataViewType type)
    {
        var method = typeof(LabelColumn).GetMethod(nameof(ReadKeyValuesCore), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(type.ItemType.RawType);
        return ((object, string[]))method.Invoke(null, new object[] { column })!;
    }

    static (object, string[]) ReadKeyValuesCore<T>(DataViewSchema.Column column)
    {
        VBuffer<T> values = default;
        column.Annotations.GetValue(AnnotationKinds.KeyValues, ref values);
        // A private copy: annotation buffers may be reused by their owner.
        VBuffer<T> copy = default;
        values.CopyTo(ref copy);
        var names = copy.DenseValues().Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "").ToArray();
        return (copy, names);
    }
}

using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.WeightSelection.MLNet;

/// <summary>An in-memory data view of feature vectors whose label column has exactly the given label's key type and key values.</summary>
internal static class LabeledVectors
{
    /// <param name="ml">The context.</param>
    /// <param name="label">The label whose name, key type and KeyValues the label column takes.</param>
    /// <param name="features">One vector per row, all of the same length.</param>
    /// <param name="classes">0-based class index per row.</param>
    /// <param name="featureColumn">Name of the <c>Vector&lt;Single, F&gt;</c> column.</param>
    public static IDataView Create(MLContext ml, LabelColumn label, IReadOnlyList<float[]> features, IReadOnlyList<long> classes, string featureColumn)
    {
        if (features.Count != classes.Count) throw new ArgumentException($"{features.Count} feature rows for {classes.Count} labels.");
        int width = features.Count > 0 ? features[0].Length : 0;
        // LoadFromEnumerable stores a key member as a 0-based index (raw key = index + 1).
        var rows = features.Select((f, i) => new Row { Label = checked((uint)classes[i]), Features = f }).ToArray();

        var definition = SchemaDefinition.Create(typeof(Row));
        var labelColumn = definition[nameof(Row.Label)];
        var featuresColumn = definition[nameof(Row.Features)];
        labelColumn.ColumnName = label.Name;
        labelColumn.ColumnType = label.Type;
        if (label.KeyValues is not null)
        {
            typeof(LabeledVectors).GetMethod(nameof(AddKeyValues), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                .MakeGenericMethod(label.KeyValuesType!.ItemType.RawType)
                .Invoke(null, new object[] { labelColumn, label.KeyValues, label.KeyValuesType });
        }
        featuresColumn.ColumnName = featureColumn;
        featuresColumn.ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return ml.Data.LoadFromEnumerable(rows, definition);
    }

    static void AddKeyValues<T>(SchemaDefinition.Column column, object keyValues, VectorDataViewType type)
        => column.AddAnnotation(AnnotationKinds.KeyValues, (VBuffer<T>)keyValues, type);

    sealed class Row
    {
        public uint Label { get; set; }
        public float[] Features { get; set; } = Array.Empty<float>();
    }
}

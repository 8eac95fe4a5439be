using System.Text.Json;

namespace MLNet.WeightSelection.Models.Json;

/// <summary>Small helpers for writing timm keyword arguments with <see cref="Utf8JsonWriter"/>.</summary>
public static class JsonWriterExtensions
{
    /// <summary>Writes <paramref name="name"/>: [values...].</summary>
    public static void WriteIntArray(this Utf8JsonWriter writer, string name, IEnumerable<int> values)
    {
        writer.WriteStartArray(name);
        foreach (var v in values) writer.WriteNumberValue(v);
        writer.WriteEndArray();
    }

    /// <summary>Writes <paramref name="name"/>: [values...].</summary>
    public static void WriteFloatArray(this Utf8JsonWriter writer, string name, IEnumerable<float> values)
    {
        writer.WriteStartArray(name);
        foreach (var v in values) writer.WriteNumberValue(v);
        writer.WriteEndArray();
    }

    /// <summary>Writes <paramref name="name"/>: value, or null.</summary>
    public static void WriteNullableNumber(this Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } v) writer.WriteNumber(name, v);
        else writer.WriteNull(name);
    }

    /// <summary>Writes <paramref name="name"/>: value, or null.</summary>
    public static void WriteNullableBoolean(this Utf8JsonWriter writer, string name, bool? value)
    {
        if (value is { } v) writer.WriteBoolean(name, v);
        else writer.WriteNull(name);
    }
}

using static TorchSharp.torch;

namespace MLNet.WeightSelection.Checkpoints;

/// <summary>
/// Element types of stored tensors: TorchSharp's <see cref="ScalarType"/> and safetensors' dtype names
/// (<c>F32</c>, <c>BF16</c>, <c>I64</c>, ...), with their sizes in bytes.
/// </summary>
public static class DType
{
    static readonly (string Name, ScalarType Type, int Size)[] Table =
    {
        ("F64", ScalarType.Float64, 8),
        ("F32", ScalarType.Float32, 4),
        ("F16", ScalarType.Float16, 2),
        ("BF16", ScalarType.BFloat16, 2),
        ("I64", ScalarType.Int64, 8),
        ("I32", ScalarType.Int32, 4),
        ("I16", ScalarType.Int16, 2),
        ("I8", ScalarType.Int8, 1),
        ("U8", ScalarType.Byte, 1),
        ("BOOL", ScalarType.Bool, 1),
    };

    /// <summary>The safetensors dtype names this library reads and writes.</summary>
    public static IReadOnlyList<string> SafeTensorsNames { get; } = Table.Select(e => e.Name).ToArray();

    /// <summary>The element types this library reads and writes.</summary>
    public static IReadOnlyList<ScalarType> Supported { get; } = Table.Select(e => e.Type).ToArray();

    /// <summary>True when <paramref name="type"/> is one of <see cref="Supported"/>.</summary>
    public static bool IsSupported(ScalarType type) => Array.Exists(Table, e => e.Type == type);

    /// <summary>The safetensors name of <paramref name="type"/> (<c>F32</c> for Float32).</summary>
    /// <exception cref="ArgumentException"><paramref name="type"/> has no safetensors name here.</exception>
    public static string ToSafeTensors(ScalarType type)
    {
        foreach (var e in Table) if (e.Type == type) return e.Name;
        throw new ArgumentException($"Element type {type} cannot be stored; supported: {string.Join(", ", Supported)}.", nameof(type));
    }

    /// <summary>The element type named <paramref name="name"/> in a safetensors header, or false when unknown.</summary>
    public static bool TryFromSafeTensors(string name, out ScalarType type)
    {
        foreach (var e in Table)
        {
            if (e.Name == name) { type = e.Type; return true; }
        }
        type = default;
        return false;
    }

    /// <summary>The element type named <paramref name="name"/> in a safetensors header.</summary>
    /// <exception cref="ArgumentException">The name is not one of <see cref="SafeTensorsNames"/>.</exception>
    public static ScalarType FromSafeTensors(string name) => TryFromSafeTensors(name, out var t) ? t
        : throw new ArgumentException($"Unknown safetensors dtype '{name}'; supported: {string.Join(", ", SafeTensorsNames)}.", nameof(name));

    /// <summary>Size of one element of <paramref name="type"/> in bytes.</summary>
    /// <exception cref="ArgumentException"><paramref name="type"/> is not supported.</exception>
    public static int ElementSize(ScalarType type)
    {
        foreach (var e in Table) if (e.Type == type) return e.Size;
        throw new ArgumentException($"Element type {type} is not supported; supported: {string.Join(", ", Supported)}.", nameof(type));
    }

    /// <summary>True for Float64, Float32, Float16 and BFloat16: the types a read may convert.</summary>
    public static bool IsFloatingPoint(ScalarType type) =>
        type is ScalarType.Float64 or ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16;
}

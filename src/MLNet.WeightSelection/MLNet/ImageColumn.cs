using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace MLNet.WeightSelection.MLNet;

/// <summary>The three image inputs the estimator accepts.</summary>
internal enum ImageColumnKind
{
    /// <summary><see cref="MLImage"/> from <c>LoadImages</c>.</summary>
    Image,
    /// <summary>Encoded file bytes (PNG, JPEG, ...) from <c>LoadRawImageBytes</c>: <c>VarVector&lt;Byte&gt;</c>.</summary>
    EncodedBytes,
    /// <summary>Planar 0–255 pixels from <c>ExtractPixels</c>: a known-size <c>Vector&lt;Single, C, H, W&gt;</c>, C = 1 or 3.</summary>
    Pixels,
}

/// <summary>
/// What the image column holds. Pixel vectors also carry their planes and size; the schema shape seen by
/// <c>GetOutputSchema</c> lacks dimensions, so those are checked again on the real schema in <c>Fit</c>.
/// </summary>
internal sealed record ImageColumn(string Name, ImageColumnKind Kind, int Channels = 3, int Height = 0, int Width = 0)
{
    const string Accepted =
        "an image from LoadImages (MLImage), encoded image bytes from LoadRawImageBytes (VarVector<Byte>), " +
        "or planar pixels from ExtractPixels (a known-size Vector<Single> of 1 or 3 planes)";

    /// <summary>Checks the column's kind on a schema shape (estimator side); throws naming the column and what it holds.</summary>
    public static ImageColumnKind Validate(SchemaShape schema, string name)
    {
        if (schema.FirstOrDefault(c => c.Name == name) is not { Name: not null } col)
            throw new ArgumentOutOfRangeException(nameof(schema),
                $"The image column '{name}' is missing from the input. Expected {Accepted}. Set ImageColumnName to the column that holds the images.");
        if (col.Kind == SchemaShape.Column.VectorKind.Scalar && col.ItemType is ImageDataViewType)
            return ImageColumnKind.Image;
        if (col.Kind == SchemaShape.Column.VectorKind.VariableVector && col.ItemType == NumberDataViewType.Byte)
            return ImageColumnKind.EncodedBytes;
        if (col.Kind == SchemaShape.Column.VectorKind.Vector && col.ItemType == NumberDataViewType.Single)
            return ImageColumnKind.Pixels;
        throw new ArgumentOutOfRangeException(nameof(schema),
            $"The image column '{name}' holds {Describe(col)}; expected {Accepted}.");
    }

    /// <summary>Reads the column from a real schema, including the planes and size of a pixel vector.</summary>
    public static ImageColumn Inspect(DataViewSchema schema, string name)
    {
        var col = schema.GetColumnOrNull(name)
            ?? throw new ArgumentOutOfRangeException(nameof(schema),
                $"The image column '{name}' is missing from the input. Expected {Accepted}. Set ImageColumnName to the column that holds the images.");
        switch (col.Type)
        {
            case ImageDataViewType:
                return new ImageColumn(name, ImageColumnKind.Image);
            case VectorDataViewType { IsKnownSize: false } v when v.ItemType == NumberDataViewType.Byte:
                return new ImageColumn(name, ImageColumnKind.EncodedBytes);
            case VectorDataViewType { IsKnownSize: true } v when v.ItemType == NumberDataViewType.Single:
                var d = v.Dimensions;
                if (d.Length != 3 || (d[0] != 1 && d[0] != 3))
                    throw new ArgumentOutOfRangeException(nameof(schema),
                        $"The image column '{name}' is {v} with dimensions [{string.Join(", ", d)}]; planar pixels must have " +
                        "dimensions [C, H, W] with C = 1 (grayscale) or 3 (R, G, B), as ExtractPixels gives with interleavePixelColors: false.");
                return new ImageColumn(name, ImageColumnKind.Pixels, d[0], d[1], d[2]);
            default:
                throw new ArgumentOutOfRangeException(nameof(schema),
                    $"The image column '{name}' holds {col.Type}; expected {Accepted}.");
        }
    }

    static string Describe(SchemaShape.Column col) => col.Kind switch
    {
        SchemaShape.Column.VectorKind.Scalar => $"{col.ItemType}",
        SchemaShape.Column.VectorKind.Vector => $"Vector<{col.ItemType}>",
        _ => $"VarVector<{col.ItemType}>",
    };
}

using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Microsoft.ML.Transforms.Image;

namespace MLNet.WeightSelection.MLNet;

/// <summary>
/// Decodes encoded image bytes (the <c>LoadRawImageBytes</c> column) into an <see cref="MLImage"/>, so they take the
/// same resize and pixel extraction as <c>LoadImages</c> images. ML.NET has no built-in transform for this, so it is a
/// custom mapping: a saved model that uses it loads after
/// <c>mlContext.ComponentCatalog.RegisterAssembly(typeof(WeightSelectionEstimator).Assembly)</c>.
/// </summary>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class ImageBytesDecoder : CustomMappingFactory<ImageBytesDecoder.Encoded, ImageBytesDecoder.Decoded>
{
    /// <summary>The custom mapping's contract name, stored in saved models.</summary>
    public const string ContractName = "MLNet.WeightSelection.DecodeImageBytes";

    /// <summary>The input column the mapping reads (a copy of the image column).</summary>
    public const string InputColumn = "WeightSelection.EncodedImage";

    /// <summary>The output column holding the decoded image.</summary>
    public const string OutputColumn = "WeightSelection.DecodedImage";

    /// <summary>Creates the factory (ML.NET does when it loads a model using the mapping).</summary>
    public ImageBytesDecoder() => EnsureImageTypeRegistered();

    /// <summary>
    /// Lets a plain <see cref="MLImage"/> member stand for an image of any size. ML.NET's own <c>[ImageType]</c>
    /// attribute without a size registers a 0×0 type and throws, so the pairing is registered here (once; repeats are no-ops).
    /// </summary>
    public static void EnsureImageTypeRegistered() => DataViewTypeManager.Register(new ImageDataViewType(), typeof(MLImage));

    /// <summary>Decodes one row. The previous row's image is released first: ML.NET reuses the output object per cursor.</summary>
    public static void Decode(Encoded input, Decoded output)
    {
        output.Image?.Dispose();
        output.Image = null;
        if (input.Bytes is not { Length: > 0 } bytes)
            throw new InvalidDataException("The image bytes are empty.");
        try
        {
            output.Image = MLImage.CreateFromStream(new MemoryStream(bytes, writable: false));
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"The {bytes.Length} image bytes could not be decoded as PNG, JPEG, BMP, GIF or WebP: {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public override Action<Encoded, Decoded> GetMapping() => Decode;

    /// <summary>Input row of the mapping.</summary>
    public sealed class Encoded
    {
        /// <summary>The encoded file bytes.</summary>
        [ColumnName(InputColumn)]
        public byte[]? Bytes { get; set; }
    }

    /// <summary>Output row of the mapping.</summary>
    public sealed class Decoded
    {
        /// <summary>The decoded image (any size; resized downstream).</summary>
        [ColumnName(OutputColumn)]
        public MLImage? Image { get; set; }
    }
}

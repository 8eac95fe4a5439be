using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace MLNet.WeightSelection.MLNet;

/// <summary>
/// Built-in ML.NET steps from the image column to planar R, G, B pixels, 0–255, at <c>ImageSize × ImageSize</c>
/// (<see cref="PixelsColumn"/>). Scoring runs these fitted steps in front of the ONNX student, and training reads the
/// same fitted steps (<see cref="ForTraining"/>), so both see identical pixels. Images are resized like ML.NET's
/// <c>ResizeImages</c> default: scaled to cover the square, then cropped at the centre (aspect ratio kept, as timm's
/// evaluation crop does).
/// </summary>
internal static class PixelPipeline
{
    /// <summary>The output column: <c>Vector&lt;Single&gt;</c> of 3·S·S planar pixels.</summary>
    public const string PixelsColumn = "WeightSelection.Pixels";

    /// <summary>The column training reads for images and encoded bytes: <c>Vector&lt;Byte&gt;</c> of the same 3·S·S planar pixels.</summary>
    public const string BytesColumn = "WeightSelection.PixelBytes";

    const string ResizedColumn = "WeightSelection.Resized";
    const string ImageColumnName = "WeightSelection.Image";
    const string ThreePlanesColumn = "WeightSelection.Rgb";

    /// <summary>The steps for <paramref name="image"/>, and the temporary columns they add (to drop after scoring).</summary>
    public static (IEstimator<ITransformer> Steps, string[] TemporaryColumns) Build(MLContext ml, ImageColumn image, int imageSize)
    {
        switch (image.Kind)
        {
            case ImageColumnKind.Image:
                return (ResizeAndExtract(ml, image.Name, imageSize), new[] { ResizedColumn, PixelsColumn });

            case ImageColumnKind.EncodedBytes:
                ImageBytesDecoder.EnsureImageTypeRegistered();
                var decode = ml.Transforms.CopyColumns(ImageBytesDecoder.InputColumn, image.Name)
                    .Append(ml.Transforms.CustomMapping<ImageBytesDecoder.Encoded, ImageBytesDecoder.Decoded>(ImageBytesDecoder.Decode, ImageBytesDecoder.ContractName))
                    .Append(ResizeAndExtract(ml, ImageBytesDecoder.OutputColumn, imageSize));
                return (decode, new[] { ImageBytesDecoder.InputColumn, ImageBytesDecoder.OutputColumn, ResizedColumn, PixelsColumn });

            case ImageColumnKind.Pixels:
                return FromPixels(ml, image, imageSize);

            default:
                throw new ArgumentOutOfRangeException(nameof(image), image.Kind, "Unknown image column kind.");
        }
    }

    /// <summary>
    /// The fitted <paramref name="pixels"/> steps applied to <paramref name="data"/>, and the column training reads.
    /// For images and encoded bytes that is <see cref="BytesColumn"/>: the resized image extracted once more, as bytes,
    /// so training skips the float copy that scoring needs (the float column is not computed when only the bytes are
    /// read). Pixel vectors are read as the floats of <see cref="PixelsColumn"/>.
    /// </summary>
    public static (IDataView Data, string Column) ForTraining(MLContext ml, ITransformer pixels, IDataView data, ImageColumn image)
    {
        var floats = pixels.Transform(data);
        if (image.Kind == ImageColumnKind.Pixels) return (floats, PixelsColumn);
        return (Extract(ml, BytesColumn, asFloats: false).Fit(floats).Transform(floats), BytesColumn);
    }

    static (IEstimator<ITransformer>, string[]) FromPixels(MLContext ml, ImageColumn image, int imageSize)
    {
        bool resize = image.Height != imageSize || image.Width != imageSize;
        if (image.Channels == 3 && !resize)
            return (ml.Transforms.CopyColumns(PixelsColumn, image.Name), new[] { PixelsColumn });

        var temporary = new List<string>();
        IEstimator<ITransformer> steps = new EstimatorChain<ITransformer>();
        string rgb = image.Name;
        if (image.Channels == 1)
        {
            // Planar layout makes grayscale-to-RGB a concatenation of the same plane three times.
            rgb = resize ? ThreePlanesColumn : PixelsColumn;
            steps = steps.Append(ml.Transforms.Concatenate(rgb, image.Name, image.Name, image.Name));
            temporary.Add(rgb);
        }
        if (resize)
        {
            steps = steps
                .Append(ml.Transforms.ConvertToImage(image.Height, image.Width, ImageColumnName, rgb,
                    ImagePixelExtractingEstimator.ColorBits.Rgb, ImagePixelExtractingEstimator.ColorsOrder.ARGB,
                    interleavedColors: false, scaleImage: 1f, offsetImage: 0f))
                .Append(ResizeAndExtract(ml, ImageColumnName, imageSize));
            temporary.AddRange(new[] { ImageColumnName, ResizedColumn, PixelsColumn });
        }
        return (steps, temporary.ToArray());
    }

    static IEstimator<ITransformer> ResizeAndExtract(MLContext ml, string imageColumn, int imageSize) =>
        ml.Transforms.ResizeImages(ResizedColumn, imageSize, imageSize, imageColumn)
            .Append(Extract(ml, PixelsColumn, asFloats: true));

    // With scale 1 and offset 0 ExtractPixels stores each pixel byte as it is, as a float or as a byte: both outputs
    // hold the same values.
    static ImagePixelExtractingEstimator Extract(MLContext ml, string outputColumn, bool asFloats) =>
        ml.Transforms.ExtractPixels(outputColumn, ResizedColumn,
            ImagePixelExtractingEstimator.ColorBits.Rgb, ImagePixelExtractingEstimator.ColorsOrder.ARGB,
            interleavePixelColors: false, offsetImage: 0f, scaleImage: 1f, outputAsFloatArray: asFloats);
}

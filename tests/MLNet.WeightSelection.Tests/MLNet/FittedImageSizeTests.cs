using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.WeightSelection.Training;
using SkiaSharp;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>
/// <c>ImageSize = null</c> through <c>Fit</c>: the side is measured on the images (decoded images, encoded bytes) or
/// read from the pixel column's shape, then fitted by <see cref="TrainingRecipe.ImageSize"/>.
/// </summary>
[Collection(nameof(MLNetFits))]
public class FittedImageSizeTests
{
    static WeightSelectionOptions Options(string teacher, string imageColumn) => new()
    {
        Teacher = Teacher.FromFile(teacher, TinyModels.Teacher()),
        Student = TinyModels.Student() with { ImageSize = 64 },
        ImageColumnName = imageColumn,
        Epochs = 1,
        ValidationFraction = 0,
        TeacherAdaptation = TeacherAdaptationOptions.Off,
        Threads = 1,
    };

    [Fact]
    public void Decoded_images_and_encoded_bytes_are_measured_by_their_median_larger_side()
    {
        using var tmp = new TempFolder();
        var rows = TestImages.Colours(tmp.Path, perClass: 4);
        var sides = rows.Select(r => SKBitmap.DecodeBounds(tmp.File(r.ImagePath))).Select(i => Math.Max(i.Width, i.Height)).Order().ToList();
        int expected = TrainingRecipe.ImageSize(null, sides[sides.Count / 2], 64, 8);
        // The colour images are 12–16 px: doubled to 24–32, below the student's 64 px.
        Assert.InRange(expected, 24, 32);
        var ml = new MLContext(seed: 1);
        string teacher = TinyModels.SaveTeacher(tmp.Path);

        using var fromImages = ml.Transforms.InitializeFromTeacher(Options(teacher, "Image")).Fit(TestImages.LoadKeyed(ml, rows, tmp.Path));
        Assert.Equal(expected, fromImages.Recipe.Data.ImageSize);
        Assert.Equal(expected, fromImages.StudentSpec.ImageSize);
        Assert.False(fromImages.Recipe.Choices.Single(c => c.Name == "ImageSize").WasSet);

        var raw = ml.Data.LoadFromEnumerable(rows);
        var bytes = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.LoadRawImageBytes("Bytes", tmp.Path, "ImagePath")).Fit(raw).Transform(raw);
        using var fromBytes = ml.Transforms.InitializeFromTeacher(Options(teacher, "Bytes")).Fit(bytes);
        Assert.Equal(expected, fromBytes.Recipe.Data.ImageSize);
    }

    sealed class PixelRow
    {
        [VectorType(3, 20, 20)]
        public float[] Pixels { get; set; } = Array.Empty<float>();

        public string Label { get; set; } = "";
    }

    [Fact]
    public void Pixel_vectors_give_their_side_from_the_schema()
    {
        using var tmp = new TempFolder();
        var rows = Enumerable.Range(0, 8).Select(i => new PixelRow
        {
            Label = i % 2 == 0 ? "dark" : "light",
            Pixels = Enumerable.Repeat(i % 2 == 0 ? 30f : 220f, 3 * 20 * 20).ToArray(),
        }).ToList();
        var ml = new MLContext(seed: 1);
        var raw = ml.Data.LoadFromEnumerable(rows);
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(raw).Transform(raw);

        using var model = ml.Transforms.InitializeFromTeacher(Options(TinyModels.SaveTeacher(tmp.Path), "Pixels")).Fit(data);

        // 20 px is small: doubled to 40, a multiple of 8 below the student's 64 px.
        Assert.Equal(40, model.Recipe.Data.ImageSize);
        Assert.Equal(TrainingRecipe.ImageSize(null, 20, 64, 8), model.Recipe.Data.ImageSize);
    }
}

using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>Encoded bytes and planar pixel vectors train and score like LoadImages images; grayscale becomes three channels.</summary>
[Collection(nameof(MLNetFits))]
public class InputKindTests
{
    static WeightSelectionOptions Options(string teacherPath, string imageColumn) => new()
    {
        Teacher = Teacher.FromFile(teacherPath, TinyModels.Teacher()),
        Student = TinyModels.Student(),
        ImageColumnName = imageColumn,
        ImageSize = 32,
        Epochs = 1,
        BatchSize = 8,
        ValidationFraction = 0,
        Augmentation = AugmentationOptions.None,
        Threads = 1,
        TeacherAdaptation = TeacherAdaptationOptions.Off,
    };

    [Fact]
    public void Grayscale_png_bytes_from_LoadRawImageBytes_train_score_and_reload_with_the_registered_assembly()
    {
        string folder = TestPaths.NewTempDirectory();
        var rows = new List<TestImages.Row>();
        for (int i = 0; i < 8; i++)
            foreach (var (name, level) in new[] { ("dark", 40), ("light", 210) })
            {
                string file = $"{name}_{i}.png";
                TestImages.WriteGrayPng(Path.Combine(folder, file), 20 + i, 24, (x, y) => (byte)(level + (x + y + i) % 30));
                rows.Add(new TestImages.Row { ImagePath = file, Label = name });
            }
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(rows);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.LoadRawImageBytes("Bytes", folder, "ImagePath"))
            .Append(ml.Transforms.InitializeFromTeacher(Options(TinyModels.SaveTeacher(folder), "Bytes")));
        var model = pipeline.Fit(data);
        var scored = model.Transform(data);
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        Assert.Equal(16, scores.Length);
        Assert.All(scores, s => Assert.Equal(1.0, s.Sum(), 4));

        string path = Path.Combine(folder, "model.zip");
        ml.Model.Save(model, data.Schema, path);
        var fresh = new MLContext(seed: 2);
        fresh.ComponentCatalog.RegisterAssembly(typeof(WeightSelectionEstimator).Assembly);
        var loaded = fresh.Model.Load(path, out _);
        Assert.Equal(scores, loaded.Transform(data).GetColumn<float[]>("Score"));
    }

    sealed class PixelRow
    {
        [VectorType(1, 20, 20)]
        public float[] Pixels { get; set; } = Array.Empty<float>();

        public string Label { get; set; } = "";
    }

    [Fact]
    public void One_plane_pixel_vectors_of_another_size_are_expanded_to_RGB_and_resized()
    {
        string folder = TestPaths.NewTempDirectory();
        var rng = new Random(3);
        var rows = Enumerable.Range(0, 16).Select(i => new PixelRow
        {
            Label = i % 2 == 0 ? "stripes" : "flat",
            Pixels = Enumerable.Range(0, 400).Select(p => i % 2 == 0 ? (p / 20 % 4 < 2 ? 230f : 20f) : 120f + rng.Next(0, 10)).ToArray(),
        }).ToList();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(rows);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.InitializeFromTeacher(Options(TinyModels.SaveTeacher(folder), "Pixels")));
        var model = pipeline.Fit(data);
        var scored = model.Transform(data);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 2), scored.Schema["Score"].Type);
        Assert.Equal(16, scored.GetColumn<float[]>("Score").Count());

        // The pixels the student saw: the gray plane copied into R, G and B, then resized to 32 × 32.
        var image = global::MLNet.WeightSelection.MLNet.ImageColumn.Inspect(data.Schema, "Pixels");
        Assert.Equal((1, 20, 20), (image.Channels, image.Height, image.Width));
        var (steps, _) = global::MLNet.WeightSelection.MLNet.PixelPipeline.Build(ml, image, 32);
        var pixels = steps.Fit(data).Transform(data).GetColumn<float[]>(global::MLNet.WeightSelection.MLNet.PixelPipeline.PixelsColumn).First();
        Assert.Equal(3 * 32 * 32, pixels.Length);
        Assert.Equal(pixels.AsSpan(0, 1024).ToArray(), pixels.AsSpan(1024, 1024).ToArray());
        Assert.Equal(pixels.AsSpan(0, 1024).ToArray(), pixels.AsSpan(2048, 1024).ToArray());
        Assert.Contains(pixels, v => v > 200);
        Assert.Contains(pixels, v => v < 50);
    }
}

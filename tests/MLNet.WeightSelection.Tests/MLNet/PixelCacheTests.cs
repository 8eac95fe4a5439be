using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.WeightSelection.MLNet;
using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>The pixel cache between Fit calls: what its key sees, reuse without decoding, and entries it must not trust.</summary>
public class PixelCacheTests
{
    const int Size = 16;

    sealed record Setup(MLContext Ml, string Folder, List<TestImages.Row> Rows, IDataView Data, ITransformer Pixels, ImageColumn Image, LabelColumn Label);

    /// <summary>PNG files named by absolute paths, loaded with LoadImages, as ws train and the sample do.</summary>
    static Setup Files(int perClass = 6, string? folder = null, string imageColumn = "Image")
    {
        folder ??= TestPaths.NewTempDirectory();
        var rows = TestImages.Colours(folder, perClass, size: 10);
        foreach (var row in rows) row.ImagePath = Path.Combine(folder, row.ImagePath);
        var ml = new MLContext(seed: 1);
        var data = TestImages.LoadKeyed(ml, rows, folder: null!);
        return Build(ml, folder, rows, data, imageColumn);
    }

    static Setup Build(MLContext ml, string folder, List<TestImages.Row> rows, IDataView data, string imageColumn)
    {
        var image = ImageColumn.Inspect(data.Schema, imageColumn);
        var pixels = PixelPipeline.Build(ml, image, Size).Steps.Fit(data);
        return new Setup(ml, folder, rows, data, pixels, image, LabelColumn.Inspect(data.Schema, "Label"));
    }

    static (ImageTensorDataset Data, List<string> Log) Read(Setup s, PixelCache? cache, ITransformer? pixels = null)
    {
        var log = new List<string>();
        var (data, _) = ReadData.Read(s.Ml, pixels ?? s.Pixels, s.Data, s.Image, s.Label, Size, skipUnreadable: false, () => { }, log.Add,
            "training data", requireTwoClasses: true, threads: 1, cache);
        return (data, log);
    }

    static string? Key(Setup s, int size = Size) => PixelCacheKey.Compute(s.Data, s.Image, s.Label, size, skipUnreadable: false, () => { }).Key;

    [Fact]
    public void A_second_read_of_the_same_data_comes_from_the_cache_without_decoding()
    {
        var s = Files();
        var cache = new PixelCache(TestPaths.NewTempDirectory());
        var (first, firstLog) = Read(s, cache);
        using (first)
        {
            Assert.Contains(firstLog, l => l.Contains("kept in the pixel cache"));
            Assert.Equal(2, Directory.GetFiles(cache.Directory).Length); // the pixels and their description, nothing else

            // A pixel step that fails if used: a hit must not decode anything.
            var (second, secondLog) = Read(s, cache, new NoDecoding());
            using (second)
            {
                Assert.Contains(secondLog, l => l.Contains("come from the pixel cache"));
                Assert.Equal(first.Labels, second.Labels);
                Assert.True(first.Images.eq(second.Images).all().item<bool>());
            }
        }

        using var uncached = Read(s, cache: null).Data;
        using var cached = Read(s, cache).Data;
        Assert.True(uncached.Images.eq(cached.Images).all().item<bool>());
    }

    [Fact]
    public void The_key_changes_with_an_image_file_the_labels_and_the_size()
    {
        var s = Files();
        string key = Key(s)!;
        Assert.Matches("^[0-9a-f]{64}$", key);
        Assert.Equal(key, Key(s));
        Assert.NotEqual(key, Key(s, size: Size * 2));

        // Rewrite one image with other pixels: its length or write time changes, and so does the key.
        string file = s.Rows[3].ImagePath;
        TestImages.WritePng(file, 12, 12, (_, _) => (1, 2, 3));
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(1));
        Assert.NotEqual(key, Key(s));

        var relabeled = s.Rows.Select(r => new TestImages.Row { ImagePath = r.ImagePath, Label = r.Label == "red" ? "green" : r.Label }).ToList();
        var data = TestImages.LoadKeyed(s.Ml, relabeled, folder: null!);
        Assert.NotEqual(Key(s), Key(Build(s.Ml, s.Folder, relabeled, data, "Image")));
    }

    [Fact]
    public void Data_that_cannot_be_fingerprinted_is_read_as_usual_with_the_reason()
    {
        // Paths relative to an image folder: a changed file could not be told, so no key.
        string folder = TestPaths.NewTempDirectory();
        var rows = TestImages.Colours(folder, perClass: 4, size: 10);
        var ml = new MLContext(seed: 1);
        var s = Build(ml, folder, rows, TestImages.LoadKeyed(ml, rows, folder), "Image");
        var (key, whyNot) = PixelCacheKey.Compute(s.Data, s.Image, s.Label, Size, false, () => { });
        Assert.Null(key);
        Assert.Contains("no text column names an existing file", whyNot);

        var cache = new PixelCache(TestPaths.NewTempDirectory());
        var (data, log) = Read(s, cache);
        using (data) Assert.Equal(12, data.Count);
        Assert.Contains(log, l => l.Contains("The pixel cache is not used"));
        Assert.Empty(Directory.GetFiles(cache.Directory));
    }

    [Fact]
    public void Encoded_bytes_are_keyed_by_their_content()
    {
        string folder = TestPaths.NewTempDirectory();
        var rows = TestImages.Colours(folder, perClass: 4, size: 10);
        var ml = new MLContext(seed: 1);
        IDataView Bytes() => ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.LoadRawImageBytes("Image", folder, "ImagePath"))
            .Fit(ml.Data.LoadFromEnumerable(rows)).Transform(ml.Data.LoadFromEnumerable(rows));
        var s = Build(ml, folder, rows, Bytes(), "Image");
        string key = Key(s)!;
        Assert.NotNull(key);

        // Same length, same write time, other bytes: only a content hash sees it.
        string file = Path.Combine(folder, rows[5].ImagePath);
        var bytes = File.ReadAllBytes(file);
        var time = File.GetLastWriteTimeUtc(file);
        bytes[^20] ^= 0xFF;
        File.WriteAllBytes(file, bytes);
        File.SetLastWriteTimeUtc(file, time);
        Assert.NotEqual(key, Key(Build(ml, folder, rows, Bytes(), "Image")));
    }

    [Theory]
    [InlineData("truncated pixels")]
    [InlineData("pixels without a description")]
    [InlineData("another format")]
    [InlineData("labels out of range")]
    public void An_entry_that_does_not_check_out_is_read_again_never_used(string damage)
    {
        var s = Files();
        var cache = new PixelCache(TestPaths.NewTempDirectory());
        using (var first = Read(s, cache).Data) { }
        string key = Key(s)!;
        string pixels = cache.PixelsPath(key), description = Path.ChangeExtension(pixels, ".json");
        switch (damage)
        {
            case "truncated pixels":
                using (var f = new FileStream(pixels, FileMode.Open)) f.SetLength(f.Length - 1);
                break;
            case "pixels without a description": // what a process killed before its last write leaves
                File.Delete(description);
                break;
            case "another format":
                File.WriteAllText(description, File.ReadAllText(description).Replace("\"Format\":1", "\"Format\":999"));
                break;
            case "labels out of range":
                File.WriteAllText(description, System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(description), "\"Labels\":\\[\\d+", "\"Labels\":[7"));
                break;
        }

        var (again, log) = Read(s, cache);
        using (again)
        {
            Assert.DoesNotContain(log, l => l.Contains("come from the pixel cache"));
            Assert.Contains(log, l => l.Contains("kept in the pixel cache"));
            Assert.Equal(18, again.Count);
        }
        using var third = Read(s, cache).Data; // rebuilt whole, so trusted again
        Assert.Equal(18L * 3 * Size * Size, new FileInfo(pixels).Length);
    }

    [Fact]
    public void Fit_reuses_the_cache_across_calls_and_checks_the_folder_first()
    {
        var s = Files(perClass: 5);
        string folder = TestPaths.NewTempDirectory();
        string teacherPath = TinyModels.SaveTeacher(TestPaths.NewTempDirectory());
        var log = new List<string>();
        var ml = new MLContext(seed: 1);
        ml.Log += (_, e) => { if (e.Message.Contains("pixel cache")) lock (log) log.Add(e.Message); };
        WeightSelectionOptions Options() => new()
        {
            Teacher = Teacher.FromFile(teacherPath, TinyModels.Teacher()),
            Student = TinyModels.Student(),
            ImageSize = Size,
            Epochs = 1,
            BatchSize = 8,
            Threads = 1,
            ValidationFraction = 0,
            TeacherAdaptation = TeacherAdaptationOptions.Off,
            PixelCacheDirectory = folder,
        };
        using (ml.Transforms.InitializeFromTeacher(Options()).Fit(s.Data)) { }
        using (ml.Transforms.InitializeFromTeacher(Options()).Fit(s.Data)) { }
        Assert.Contains(log, l => l.Contains("kept in the pixel cache"));
        Assert.Contains(log, l => l.Contains("come from the pixel cache"));

        string notAFolder = Path.Combine(folder, "file");
        File.WriteAllText(notAFolder, "");
        var bad = Options();
        bad.PixelCacheDirectory = notAFolder;
        var error = Assert.ThrowsAny<Exception>(() => ml.Transforms.InitializeFromTeacher(bad).Fit(s.Data));
        Assert.Contains("PixelCacheDirectory", error.Message);
    }

    /// <summary>Pixel steps that fail if anything asks them for pixels.</summary>
    sealed class NoDecoding : ITransformer
    {
        public bool IsRowToRowMapper => true;
        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => throw new InvalidOperationException("The pixel steps were used.");
        public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => throw new InvalidOperationException("The pixel steps were used.");
        public IDataView Transform(IDataView input) => throw new InvalidOperationException("The pixel steps were used.");
        void ICanSaveModel.Save(ModelSaveContext ctx) => throw new InvalidOperationException("The pixel steps were used.");
    }
}

using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.WeightSelection.Selection;
using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>Every kind of bad input gives a clear exception before any training.</summary>
[Collection(nameof(MLNetFits))]
public class BadInputTests
{
    sealed class TextRow
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
        public float Number { get; set; }
    }

    sealed class KeyRow
    {
        public string Key { get; set; } = "";
    }

    static WeightSelectionOptions Options(string teacherPath) => new()
    {
        Teacher = Teacher.FromFile(teacherPath, TinyModels.Teacher()),
        Student = TinyModels.Student(),
        ImageSize = 32,
        Epochs = 1,
        BatchSize = 8,
        ValidationFraction = 0,
        Augmentation = AugmentationOptions.None,
        Threads = 1,
        TeacherAdaptation = TeacherAdaptationOptions.Off,
    };

    static (MLContext Ml, string Folder, string Teacher) Setup()
    {
        string folder = TestPaths.NewTempDirectory();
        return (new MLContext(seed: 1), folder, TinyModels.SaveTeacher(folder));
    }

    [Fact]
    public void GetOutputSchema_rejects_a_missing_or_mistyped_image_column()
    {
        var (ml, folder, teacher) = Setup();
        var data = ml.Data.LoadFromEnumerable(new[] { new TextRow { ImagePath = "a.png", Label = "a" } });
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        var estimator = ml.Transforms.InitializeFromTeacher(Options(teacher));

        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(Shapes.Of(keyed.Schema)));
        Assert.Contains("image column 'Image' is missing", missing.Message);

        var options = Options(teacher);
        options.ImageColumnName = "Number";
        var mistyped = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.InitializeFromTeacher(options).GetOutputSchema(Shapes.Of(keyed.Schema)));
        Assert.Contains("'Number' holds Single", mistyped.Message);
        Assert.Contains("LoadImages", mistyped.Message);
    }

    [Fact]
    public void GetOutputSchema_asks_for_MapValueToKey_when_the_label_is_not_a_key()
    {
        var (ml, folder, teacher) = Setup();
        var data = ml.Data.LoadFromEnumerable(new[] { new TextRow { ImagePath = "a.png", Label = "a" } });
        var images = ml.Transforms.LoadImages("Image", folder, "ImagePath").GetOutputSchema(Shapes.Of(data.Schema));

        var notKey = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.InitializeFromTeacher(Options(teacher)).GetOutputSchema(images));
        Assert.Contains("must be a key type", notKey.Message);
        Assert.Contains("MapValueToKey(\"Label\")", notKey.Message);

        var options = Options(teacher);
        options.LabelColumnName = "Class";
        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.InitializeFromTeacher(options).GetOutputSchema(images));
        Assert.Contains("label column 'Class' is missing", missing.Message);
    }

    static IDataView Images(MLContext ml, string folder, IEnumerable<TestImages.Row> rows, string[]? keys = null)
    {
        var data = ml.Data.LoadFromEnumerable(rows);
        var toKey = keys is null ? ml.Transforms.Conversion.MapValueToKey("Label")
            : ml.Transforms.Conversion.MapValueToKey("Label", keyData: ml.Data.LoadFromEnumerable(keys.Select(k => new KeyRow { Key = k })));
        return toKey.Append(ml.Transforms.LoadImages("Image", folder, "ImagePath")).Fit(data).Transform(data);
    }

    [Fact]
    public void Empty_data_is_rejected()
    {
        var (ml, folder, teacher) = Setup();
        var data = Images(ml, folder, Array.Empty<TestImages.Row>(), keys: new[] { "red", "green" });
        var e = Assert.Throws<InvalidOperationException>(() => ml.Transforms.InitializeFromTeacher(Options(teacher)).Fit(data));
        Assert.Contains("training data is empty", e.Message);
    }

    [Fact]
    public void Fewer_than_two_classes_are_rejected()
    {
        var (ml, folder, teacher) = Setup();
        var rows = TestImages.Colours(folder, perClass: 3, classes: 1);
        var oneKey = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.InitializeFromTeacher(Options(teacher)).Fit(Images(ml, folder, rows)));
        Assert.Contains("has 1 class", oneKey.Message);

        var onePresent = Assert.Throws<InvalidOperationException>(() =>
            ml.Transforms.InitializeFromTeacher(Options(teacher)).Fit(Images(ml, folder, rows, keys: new[] { "red", "green" })));
        Assert.Contains("only one class ('red' in all 3 rows)", onePresent.Message);
    }

    [Fact]
    public void An_undecodable_image_names_its_row_or_is_skipped_and_counted()
    {
        var (ml, folder, teacher) = Setup();
        var rows = TestImages.Colours(folder, perClass: 6);
        File.WriteAllText(Path.Combine(folder, rows[4].ImagePath), "this is not a PNG");
        var data = Images(ml, folder, rows);

        var e = Assert.Throws<InvalidDataException>(() => ml.Transforms.InitializeFromTeacher(Options(teacher)).Fit(data));
        Assert.StartsWith("Row 4: the image in column 'Image' could not be read", e.Message);
        Assert.Contains("SkipUnreadableImages", e.Message);

        var options = Options(teacher);
        options.SkipUnreadableImages = true;
        using var model = ml.Transforms.InitializeFromTeacher(options).Fit(data);
        Assert.Equal(1, model.SkippedImages);
    }

    [Fact]
    public void A_teacher_smaller_than_the_student_is_rejected_before_the_data_is_read()
    {
        var (ml, folder, _) = Setup();
        var small = TinyModels.Teacher() with { Channels = new[] { 4, 8, 16, 32 }, PlainStemWidth = 4 };
        string teacher = TinyModels.SaveTeacher(folder, small);
        var rows = TestImages.Colours(folder, perClass: 2);
        // A broken image too: had the data been read first, this would fail on it instead.
        File.WriteAllText(Path.Combine(folder, rows[0].ImagePath), "not an image");
        var options = Options(teacher);
        options.Teacher = Teacher.FromFile(teacher, small);
        var e = Assert.Throws<WeightSelectionException>(() => ml.Transforms.InitializeFromTeacher(options).Fit(Images(ml, folder, rows)));
        Assert.Contains("is 8 in the student but 4 in the teacher", e.Message);
    }

    [Fact]
    public void Weight_selection_without_a_teacher_is_rejected()
    {
        var (ml, folder, teacher) = Setup();
        var options = Options(teacher);
        options.Teacher = null;
        var e = Assert.Throws<ArgumentException>(() => ml.Transforms.InitializeFromTeacher(options).Fit(Images(ml, folder, TestImages.Colours(folder, 2))));
        Assert.Contains("Teacher is required", e.Message);
    }
}

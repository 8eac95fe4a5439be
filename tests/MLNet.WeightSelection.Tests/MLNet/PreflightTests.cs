using System.Diagnostics;
using Microsoft.ML;
using MLNet.WeightSelection.MLNet;
using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>
/// Fit checks what its end needs (ONNX Runtime's native library, a writable checkpoint folder) before it reads any
/// data: each test's data holds an image that does not exist, so an error about anything else proves the order.
/// </summary>
[Collection(nameof(MLNetFits))]
public class PreflightTests
{
    static (MLContext Ml, IDataView Data, WeightSelectionOptions Options, List<EpochMetrics> Epochs) Setup(TempFolder tmp)
    {
        var rows = TestImages.Colours(tmp.Path, perClass: 2);
        rows.Add(new TestImages.Row { ImagePath = "missing.png", Label = TestImages.ColourNames[0] });
        var ml = new MLContext(seed: 1);
        var data = TestImages.LoadKeyed(ml, rows, tmp.Path);
        var epochs = new List<EpochMetrics>();
        var options = new WeightSelectionOptions
        {
            Teacher = Teacher.FromFile(TinyModels.SaveTeacher(tmp.Path), TinyModels.Teacher()),
            Student = TinyModels.Student(),
            ImageSize = 16,
            Epochs = 1,
            BatchSize = 8,
            ValidationFraction = 0,
            Augmentation = AugmentationOptions.None,
            Threads = 1,
            TeacherAdaptation = TeacherAdaptationOptions.Off,
            MetricsCallback = epochs.Add,
        };
        return (ml, data, options, epochs);
    }

    [Fact]
    public void The_real_probe_loads_onnx_runtime_here_within_milliseconds()
    {
        var clock = Stopwatch.StartNew();
        OnnxRuntimeAvailability.Ensure();
        var first = clock.Elapsed;
        clock.Restart();
        OnnxRuntimeAvailability.Ensure();
        Assert.True(first < TimeSpan.FromSeconds(5), $"the first check took {first.TotalMilliseconds:0} ms");
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(50), $"a repeated check took {clock.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public void A_missing_onnx_runtime_fails_Fit_before_reading_data_and_names_the_package()
    {
        using var tmp = new TempFolder();
        var (ml, data, options, epochs) = Setup(tmp);
        using (new MissingNativeLibrary())
        {
            var e = Assert.Throws<InvalidOperationException>(() => ml.Transforms.InitializeFromTeacher(options).Fit(data));
            Assert.Contains("ONNX Runtime's native library (onnxruntime) cannot be loaded", e.Message);
            Assert.Contains("PackageReference to Microsoft.ML.OnnxRuntime", e.Message);
            Assert.Contains(MissingNativeLibrary.Name, e.Message);
            Assert.DoesNotContain("missing.png", e.Message);
        }
        Assert.Empty(epochs);

        // Without the stand-in the same Fit gets past the check and stops at the unreadable image.
        var unreadable = Assert.ThrowsAny<Exception>(() => ml.Transforms.InitializeFromTeacher(options).Fit(data));
        Assert.Contains("missing.png", unreadable.Message);
    }

    [Fact]
    public void A_checkpoint_folder_that_cannot_be_created_fails_Fit_before_reading_data()
    {
        using var tmp = new TempFolder();
        var (ml, data, options, epochs) = Setup(tmp);
        string file = tmp.File("not-a-folder");
        File.WriteAllText(file, "");
        options.CheckpointDirectory = Path.Combine(file, "checkpoints");

        var e = Assert.Throws<IOException>(() => ml.Transforms.InitializeFromTeacher(options).Fit(data));

        Assert.Contains("CheckpointDirectory", e.Message);
        Assert.Contains($"'{file}' is a file", e.Message);
        Assert.Empty(epochs);
        Assert.Equal("", File.ReadAllText(file));
    }

    [Fact]
    public void The_folder_check_creates_nothing_and_refuses_a_file()
    {
        using var tmp = new TempFolder();
        string nested = Path.Combine(tmp.Path, "a", "b");
        Assert.Equal(nested, WritableFolder.Check(nested, "--out"));
        Assert.False(Directory.Exists(Path.Combine(tmp.Path, "a")));
        Assert.Empty(Directory.GetFileSystemEntries(tmp.Path));

        string file = tmp.File("f");
        File.WriteAllText(file, "x");
        Assert.Contains($"--out '{file}' is a file", Assert.Throws<IOException>(() => WritableFolder.Check(file, "--out")).Message);
    }
}

using Microsoft.ML;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Training;
using TorchSharp;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>Device choice follows the options and the MLContext; distillation is checked before training and runs.</summary>
[Collection(nameof(MLNetFits))]
public class DeviceAndDistillationTests
{
    static (MLContext Ml, IDataView Data, WeightSelectionOptions Options) Setup()
    {
        string folder = TestPaths.NewTempDirectory();
        var rows = TestImages.Colours(folder, perClass: 8);
        var ml = new MLContext(seed: 1);
        var data = TestImages.LoadKeyed(ml, rows, folder);
        var options = new WeightSelectionOptions
        {
            Teacher = Teacher.FromFile(TinyModels.SaveTeacher(folder), TinyModels.Teacher()),
            Student = TinyModels.Student(),
            ImageSize = 32,
            Epochs = 1,
            BatchSize = 8,
            ValidationFraction = 0,
            Augmentation = AugmentationOptions.None,
            Threads = 1,
            TeacherAdaptation = TeacherAdaptationOptions.Off,
        };
        return (ml, data, options);
    }

    [Fact]
    public void StudentSpec_carries_the_input_convention_the_student_inherited_from_its_teacher()
    {
        var (ml, data, options) = Setup();
        string folder = TestPaths.NewTempDirectory();
        var teacherSpec = TinyModels.Teacher() with { Input = InputConvention.Inception };
        options.Teacher = Teacher.FromFile(TinyModels.SaveTeacher(folder, teacherSpec), teacherSpec);
        Assert.NotEqual(InputConvention.Inception, TinyModels.Student().Input);
        using var model = ml.Transforms.InitializeFromTeacher(options).Fit(data);
        Assert.Equal(InputConvention.Inception, model.StudentSpec.Input);
        using var rebuilt = model.StudentSpec.CreateModel();
        Assert.Equal(InputConvention.Inception, rebuilt.Input);
    }

    [Fact]
    public void An_unknown_device_or_unavailable_cuda_is_a_clear_error()
    {
        var (ml, data, options) = Setup();
        options.Device = "tpu";
        var unknown = Assert.Throws<ArgumentException>(() => ml.Transforms.InitializeFromTeacher(options).Fit(data));
        Assert.Contains("\"cpu\", \"cuda\" or \"cuda:N\"", unknown.Message);

        if (torch.cuda.is_available()) return; // the rest checks a machine without CUDA
        options.Device = "cuda";
        Assert.Contains("CUDA is not available", Assert.Throws<InvalidOperationException>(() => ml.Transforms.InitializeFromTeacher(options).Fit(data)).Message);
    }

    [Fact]
    public void MLContext_GpuDeviceId_without_cuda_needs_FallbackToCpu()
    {
        if (torch.cuda.is_available()) return; // checks a machine without CUDA
        var (ml, data, options) = Setup();
        ml.GpuDeviceId = 0;
        var e = Assert.Throws<InvalidOperationException>(() => ml.Transforms.InitializeFromTeacher(options).Fit(data));
        Assert.Contains("FallbackToCpu", e.Message);

        ml.FallbackToCpu = true;
        using var model = ml.Transforms.InitializeFromTeacher(options).Fit(data);
        Assert.Single(model.History);
    }

    [Fact]
    public void Logit_distillation_from_a_teacher_with_other_classes_fails_before_training()
    {
        var (ml, data, options) = Setup();
        var epochs = new List<EpochMetrics>();
        options.MetricsCallback = epochs.Add;
        options.Distillation = DistillationOptions.Logits(alpha: 1f, temperature: 2f);
        var e = Assert.Throws<ArgumentException>(() => ml.Transforms.InitializeFromTeacher(options).Fit(data));
        Assert.Contains("3 classes", e.Message);
        Assert.Contains("has 10", e.Message);
        Assert.Empty(epochs);
    }

    [Fact]
    public void Logit_distillation_is_refused_before_training_when_the_data_is_large_enough_that_the_teacher_is_not_adapted()
    {
        // 300 images per class: the recipe uses the teacher as given (TrainingRecipe.AdaptationMaxImagesPerClass), so the
        // 10-class tiny teacher cannot give logits for 3 classes. This is known only once the data is counted.
        var (ml, _, options) = Setup();
        string folder = TestPaths.NewTempDirectory();
        var data = TestImages.LoadKeyed(ml, TestImages.Colours(folder, perClass: TrainingRecipe.AdaptationMaxImagesPerClass, size: 4), folder);
        options.TeacherAdaptation = null;
        options.Distillation = DistillationOptions.Logits();
        var epochs = new List<EpochMetrics>();
        options.MetricsCallback = epochs.Add;
        options.TeacherAdaptationMetricsCallback = epochs.Add;
        var e = Assert.Throws<ArgumentException>(() => ml.Transforms.InitializeFromTeacher(options).Fit(data));
        Assert.Contains("label's 3 classes", e.Message);
        Assert.Contains($"the recipe does not adapt it (300 images per class: adapting paid only below {TrainingRecipe.AdaptationMaxImagesPerClass})", e.Message);
        Assert.Contains("TeacherAdaptation = new TeacherAdaptationOptions()", e.Message);
        Assert.Empty(epochs);
    }

    [Fact]
    public void Feature_distillation_trains_with_the_teacher()
    {
        var (ml, data, options) = Setup();
        options.Distillation = DistillationOptions.Features(alpha: 1f);
        using var model = ml.Transforms.InitializeFromTeacher(options).Fit(data);
        Assert.Single(model.History);
        Assert.True(double.IsFinite(model.History[0].TrainLoss));
    }
}

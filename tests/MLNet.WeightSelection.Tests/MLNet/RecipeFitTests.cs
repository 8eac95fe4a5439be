using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>
/// The fitted recipe through <c>Fit</c>: one "Recipe for" line in the MLContext's log, the choices in the fitted model,
/// the teacher adapted by default when the student is selected from it, and explicit settings winning.
/// </summary>
[Collection(nameof(MLNetFits))]
public class RecipeFitTests
{
    static (MLContext Ml, IDataView Data, List<string> Log, List<TestImages.Row> Rows) Setup(TempFolder tmp, int perClass)
    {
        var rows = TestImages.Colours(tmp.Path, perClass);
        var ml = new MLContext(seed: 1);
        var log = new List<string>();
        ml.Log += (_, e) => { lock (log) log.Add(e.Message); };
        return (ml, TestImages.LoadKeyed(ml, rows, tmp.Path), log, rows);
    }

    [Fact]
    public void A_teacher_made_for_the_training_size_is_not_adapted_by_default()
    {
        using var tmp = new TempFolder();
        var (ml, data, log, _) = Setup(tmp, perClass: 8);
        var options = new WeightSelectionOptions
        {
            Teacher = Teacher.FromFile(TinyModels.SaveTeacher(tmp.Path), TinyModels.Teacher()), // made for 16 px, as the student trains
            Student = TinyModels.Student(),
            Epochs = 1,
            Threads = 1,
        };
        using var model = ml.Transforms.InitializeFromTeacher(options).Fit(data);
        Assert.Equal(16, model.Recipe.Data.ImageSize);
        Assert.Equal(16, model.Recipe.Data.TeacherImageSize);
        Assert.Equal("resnet", model.Recipe.Data.StudentFamily?.Name);
        Assert.Null(model.Recipe.TeacherAdaptation);
        Assert.Null(model.TeacherAdaptation);
        Assert.Null(model.Recipe.Student.Distillation);
        Assert.Contains(log, l => l.Contains("Recipe for", StringComparison.Ordinal) && l.Contains("TeacherAdaptation off", StringComparison.Ordinal));
    }

    [Fact]
    public void The_default_recipe_on_tiny_data_is_logged_once_adapts_the_teacher_and_distills_from_it()
    {
        using var tmp = new TempFolder();
        var (ml, data, log, _) = Setup(tmp, perClass: 8);
        var options = new WeightSelectionOptions
        {
            // A teacher made for 32 px and a student that trains at 16 px: the default adapts such a teacher.
            Teacher = Teacher.FromFile(TinyModels.SaveTeacher(tmp.Path), TinyModels.Teacher() with { ImageSize = 32 }),
            Student = TinyModels.Student(),
            Threads = 1,
        };

        long plansBefore = global::MLNet.WeightSelection.Selection.SelectionPlanner.PlansMade;
        using var model = ml.Transforms.InitializeFromTeacher(options).Fit(data);

        // Three plans, each for its own pair: the student from the teacher (the check before any image is read), the
        // adapted teacher from the teacher (its new classifier keeps its own init), the student from the adapted teacher.
        Assert.Equal(3, global::MLNet.WeightSelection.Selection.SelectionPlanner.PlansMade - plansBefore);
        var recipe = model.Recipe;
        Assert.All(recipe.Choices, c => Assert.False(c.WasSet, c.Name));
        Assert.Equal(24, recipe.Data.TrainingImages + recipe.Data.ValidationImages);
        Assert.True(recipe.Data.ValidationImages > 0);
        // The colour images are 12–16 px: doubled, then capped at the student's 16 px.
        Assert.Equal(16, recipe.Data.ImageSize);
        Assert.Equal(TrainingRecipe.Epochs(recipe.Data.TrainingImages, TrainingRecipe.BatchSize(recipe.Data.TrainingImages)), recipe.Student.Epochs);
        Assert.Equal(recipe.Student.Epochs, model.History.Count);
        Assert.NotNull(recipe.Student.Ema);
        // A ResNet student on a few images per class, for more than 10 epochs: the paper's RandAugment.
        Assert.Equal(RandAugmentOptions.Parse(TrainingRecipe.FittedRandAugment).ToString(), recipe.Student.Augmentation.RandAugment?.ToString());

        var recipeLines = log.Where(l => l.Contains("Recipe for", StringComparison.Ordinal)).ToList();
        Assert.Single(recipeLines);
        Assert.EndsWith(recipe.Summary, recipeLines[0]);

        Assert.NotNull(recipe.TeacherAdaptation);
        Assert.NotNull(model.TeacherAdaptation);
        Assert.Equal(recipe.TeacherAdaptation!.Epochs, model.TeacherAdaptation!.History.Count);
        Assert.IsType<LogitDistillation>(recipe.Student.Distillation);
        Assert.Contains(log, l => l.Contains("Selected the student's weights from the adapted", StringComparison.Ordinal));
        // The adaptation's progress reaches the same log, marked as the teacher's.
        Assert.Contains(log, l => l.Contains("[teacher adaptation] Adapting the teacher (resnet) to 3 classes at 16 px", StringComparison.Ordinal));
        Assert.Contains(log, l => l.Contains($"[teacher adaptation] epoch {recipe.TeacherAdaptation.Epochs}: train loss", StringComparison.Ordinal));
    }

    [Fact]
    public void TeacherAdaptation_Off_selects_from_the_teacher_as_given_without_distillation()
    {
        using var tmp = new TempFolder();
        var (ml, data, log, _) = Setup(tmp, perClass: 4);
        var options = new WeightSelectionOptions
        {
            Teacher = Teacher.FromFile(TinyModels.SaveTeacher(tmp.Path), TinyModels.Teacher()),
            Student = TinyModels.Student(),
            Epochs = 1,
            TeacherAdaptation = TeacherAdaptationOptions.Off,
            Threads = 1,
        };

        long plansBefore = global::MLNet.WeightSelection.Selection.SelectionPlanner.PlansMade;
        using var model = ml.Transforms.InitializeFromTeacher(options).Fit(data);

        // The plan that checked the selection before any image was read is the one the selection used.
        Assert.Equal(1, global::MLNet.WeightSelection.Selection.SelectionPlanner.PlansMade - plansBefore);
        Assert.Null(model.TeacherAdaptation);
        Assert.Null(model.Recipe.TeacherAdaptation);
        Assert.Null(model.Recipe.Student.Distillation);
        Assert.DoesNotContain(log, l => l.Contains("[teacher adaptation]", StringComparison.Ordinal));
        Assert.Contains(log, l => l.Contains("Selected the student's weights from ", StringComparison.Ordinal) && !l.Contains("adapted", StringComparison.Ordinal));
        var set = model.Recipe.Choices.Where(c => c.WasSet).Select(c => c.Name).OrderBy(n => n);
        Assert.Equal(new[] { "Epochs", "TeacherAdaptation" }, set);
    }

    [Fact]
    public void Explicit_settings_win_through_Fit_and_the_adaptation_checkpoints_in_its_own_folder()
    {
        using var tmp = new TempFolder();
        var (ml, data, log, _) = Setup(tmp, perClass: 4);
        var augmentation = AugmentationOptions.None;
        var options = new WeightSelectionOptions
        {
            Teacher = Teacher.FromFile(TinyModels.SaveTeacher(tmp.Path), TinyModels.Teacher()),
            Student = TinyModels.Student(),
            ImageSize = 24,
            Epochs = 2,
            BatchSize = 4,
            LearningRate = 5e-3,
            WarmupEpochs = 0,
            Augmentation = augmentation,
            Ema = EmaOptions.Off,
            Distillation = DistillationOptions.Features(0.5f),
            TeacherAdaptation = new TeacherAdaptationOptions { Epochs = 1, LearningRate = 1e-4 },
            CheckpointDirectory = tmp.File("checkpoints"),
            Threads = 1,
        };

        using var model = ml.Transforms.InitializeFromTeacher(options).Fit(data);

        var recipe = model.Recipe;
        Assert.All(recipe.Choices, c => Assert.True(c.WasSet, c.Name));
        Assert.Equal(24, recipe.Data.ImageSize);
        Assert.Equal(24, model.StudentSpec.ImageSize);
        var s = recipe.Student;
        Assert.Equal((2, 4, 5e-3, 0.0), (s.Epochs, s.BatchSize, s.LearningRate, s.WarmupEpochs));
        Assert.Same(augmentation, s.Augmentation);
        Assert.Null(s.Ema);
        Assert.IsType<FeatureDistillation>(s.Distillation);
        Assert.Equal(2, model.History.Count);
        Assert.Equal((1, 1e-4), (recipe.TeacherAdaptation!.Epochs, recipe.TeacherAdaptation.LearningRate));
        Assert.Single(model.TeacherAdaptation!.History);
        Assert.True(Directory.EnumerateFiles(Path.Combine(options.CheckpointDirectory, "teacher-adaptation")).Any());
        Assert.Single(log, l => l.Contains("Recipe for", StringComparison.Ordinal));

        // The same Fit again resumes both finished runs from the folder and trains nothing.
        var epochs = new List<EpochMetrics>();
        options.MetricsCallback = epochs.Add;
        using var again = ml.Transforms.InitializeFromTeacher(options).Fit(data);
        Assert.True(again.TeacherAdaptation!.Resumed);
        Assert.True(again.Training.Resumed);
        Assert.Empty(epochs);
        Assert.Equal(model.Transform(data).GetColumn<float[]>("Score"), again.Transform(data).GetColumn<float[]>("Score"));
    }

    [Fact]
    public void TeacherAdaptation_set_with_random_init_is_refused_before_the_data_is_read()
    {
        using var tmp = new TempFolder();
        var ml = new MLContext(seed: 1);
        // The image does not exist: reading the data would fail with another message.
        var data = TestImages.LoadKeyed(ml, new[]
        {
            new TestImages.Row { ImagePath = "missing.png", Label = "red" },
            new TestImages.Row { ImagePath = "missing.png", Label = "green" },
        }, tmp.Path);
        var options = new WeightSelectionOptions
        {
            Teacher = Teacher.FromFile(TinyModels.SaveTeacher(tmp.Path), TinyModels.Teacher()),
            Student = TinyModels.Student(),
            Initialization = Initialization.Random,
            TeacherAdaptation = new TeacherAdaptationOptions(),
        };
        var e = Assert.Throws<ArgumentException>(() => ml.Transforms.InitializeFromTeacher(options).Fit(data));
        Assert.Contains("not selected from a teacher (random init)", e.Message);
    }
}

using Microsoft.ML;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models.Vit;
using MLNet.WeightSelection.Training;
using TorchSharp;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>
/// WholeHeads through Fit: the head counts come from the ViT specs (Fit used to leave them unset, so the planner
/// refused every whole-head fit), and it is refused before any work where it cannot apply.
/// </summary>
[Collection(nameof(MLNetFits))]
public class WholeHeadsFitTests
{
    // Head width 8 in both: the student takes 2 of the teacher's 4 heads.
    static VisionTransformerSpec TeacherSpec() => new() { ImageSize = 16, PatchSize = 4, EmbedDim = 32, Depth = 2, NumHeads = 4, NumClasses = 10 };

    static VisionTransformerSpec StudentSpec() => new() { ImageSize = 16, PatchSize = 4, EmbedDim = 16, Depth = 1, NumHeads = 2, NumClasses = 3 };

    static (MLContext Ml, IDataView Data, WeightSelectionOptions Options) Setup(TempFolder tmp)
    {
        var rows = TestImages.Colours(tmp.Path, perClass: 4);
        var ml = new MLContext(seed: 1);
        var data = TestImages.LoadKeyed(ml, rows, tmp.Path);
        torch.manual_seed(5);
        using var teacher = TeacherSpec().CreateModel();
        using var weights = StateDict.FromModule(teacher);
        string teacherPath = tmp.File("vit-teacher.safetensors");
        SafeTensorsWriter.Save(teacherPath, weights);
        var options = new WeightSelectionOptions
        {
            Teacher = Teacher.FromFile(teacherPath, TeacherSpec()),
            Student = StudentSpec(),
            WholeHeads = true,
            Epochs = 1,
            BatchSize = 6,
            ValidationFraction = 0,
            Augmentation = AugmentationOptions.None,
            Threads = 1,
            TeacherAdaptation = TeacherAdaptationOptions.Off,
        };
        return (ml, data, options);
    }

    [Fact]
    public void Whole_heads_fit_a_vit_and_select_whole_head_blocks()
    {
        using var tmp = new TempFolder();
        var (ml, data, options) = Setup(tmp);

        using var model = ml.Transforms.InitializeFromTeacher(options).Fit(data);

        var report = model.SelectionReport!;
        Assert.True(report.WholeHeads);
        var attention = report.Widths.Where(w => w.Name.Contains("attn", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(attention);
        foreach (var width in attention)
        {
            Assert.Equal(32, width.TeacherSize);
            Assert.Equal(16, width.StudentSize);
            var heads = width.Indices!.Chunk(8).ToList();
            Assert.Equal(2, heads.Count);
            // Each student head is one whole teacher head: 8 consecutive indices starting on a head boundary.
            foreach (var head in heads)
            {
                Assert.Equal(0, head[0] % 8);
                Assert.Equal(Enumerable.Range((int)head[0], 8).Select(i => (long)i), head);
            }
        }
    }

    [Fact]
    public void Whole_heads_with_random_init_or_a_resnet_are_refused_before_training()
    {
        using var tmp = new TempFolder();
        var (ml, data, options) = Setup(tmp);
        var epochs = new List<EpochMetrics>();
        options.MetricsCallback = epochs.Add;

        options.Initialization = Initialization.Random;
        var random = Assert.Throws<ArgumentException>(() => ml.Transforms.InitializeFromTeacher(options).Fit(data));
        Assert.Contains("WholeHeads", random.Message);
        Assert.Contains("Random", random.Message);

        options.Initialization = Initialization.WeightSelection;
        options.Teacher = Teacher.FromFile(TinyModels.SaveTeacher(tmp.Path), TinyModels.Teacher());
        options.Student = TinyModels.Student();
        var resnet = Assert.Throws<ArgumentException>(() => ml.Transforms.InitializeFromTeacher(options).Fit(data));
        Assert.Contains("only a ViT has", resnet.Message);
        Assert.Contains("'resnet'", resnet.Message);
        Assert.Empty(epochs);
    }
}

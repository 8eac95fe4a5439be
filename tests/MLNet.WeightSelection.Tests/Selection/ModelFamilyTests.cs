using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Selection;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Selection;

/// <summary>The schemas know every parameter and buffer of the library's model families, and select between them.</summary>
public class ModelFamilyTests
{
    public static TheoryData<string> Variants() => new()
    {
        """{"family": "vit", "img_size": 16, "patch_size": 4, "embed_dim": 16, "depth": 2, "num_heads": 2, "num_classes": 3}""",
        """{"family": "vit", "img_size": 16, "patch_size": 4, "embed_dim": 16, "depth": 2, "num_heads": 2, "num_classes": 3, "global_pool": "avg", "class_token": false, "init_values": 0.1}""",
        """{"family": "convnext", "depths": [1, 1, 2, 1], "dims": [8, 16, 24, 32], "num_classes": 3}""",
        """{"family": "convnext", "depths": [1, 1, 2, 1], "dims": [8, 16, 24, 32], "num_classes": 3, "conv_mlp": true}""",
        """{"family": "resnet", "block": "basic", "layers": [1, 1, 1, 1], "channels": [8, 16, 24, 32], "num_classes": 3}""",
        """{"family": "resnet", "block": "bottleneck", "layers": [2, 1, 1, 1], "channels": [8, 16, 24, 32], "num_classes": 3, "stem_type": "deep", "stem_width": 16, "avg_down": true}""",
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void EveryKeyOfAModelIsKnownToItsFamilysSchema(string spec)
    {
        using var model = ModelSpec.FromJson(spec).CreateModel();
        var state = model.state_dict();
        var schema = FamilySchemas.Detect(state.Keys);
        Assert.NotNull(schema);
        Assert.Equal(model.Spec.Family, schema.Family);
        Assert.Empty(state.Where(kv => kv.Value.dim() > 0 && schema.Bind(kv.Key, (int)kv.Value.dim()) is null).Select(kv => kv.Key));
        Assert.Equal(model.ClassifierKeys.Order(), schema.ClassifierKeys.Order());
    }

    [Theory]
    [InlineData("""{"family": "vit", "img_size": 32, "patch_size": 4, "embed_dim": 48, "depth": 4, "num_heads": 4, "num_classes": 5, "init_values": 0.1}""",
                """{"family": "vit", "img_size": 24, "patch_size": 4, "embed_dim": 24, "depth": 2, "num_heads": 2, "num_classes": 3, "init_values": 0.1}""")]
    [InlineData("""{"family": "convnext", "depths": [2, 2, 3, 2], "dims": [16, 32, 48, 64], "num_classes": 5}""",
                """{"family": "convnext", "depths": [1, 1, 2, 1], "dims": [8, 16, 24, 32], "num_classes": 3, "conv_mlp": true}""")]
    [InlineData("""{"family": "resnet", "block": "bottleneck", "layers": [2, 2, 2, 2], "channels": [8, 16, 24, 32], "num_classes": 5, "stem_type": "deep", "stem_width": 16, "avg_down": true}""",
                """{"family": "resnet", "block": "bottleneck", "layers": [1, 1, 1, 1], "channels": [4, 8, 12, 16], "num_classes": 3, "stem_type": "deep", "stem_width": 8, "avg_down": true}""")]
    public void ATeacherModuleInitializesAStudentModuleThatRuns(string teacherSpec, string studentSpec)
    {
        using var teacherModel = ModelSpec.FromJson(teacherSpec).CreateModel();
        using var teacher = StateDict.FromModule(teacherModel);
        using var student = ModelSpec.FromJson(studentSpec).CreateModel();
        using var classifier = student.state_dict()[student.ClassifierKeys[0]].clone();

        var report = WeightSelector.SelectInto(teacher, student);

        Assert.All(report.Rows, r => Assert.DoesNotContain("fallback", r.Method));
        Assert.All(report.Rows.Where(r => !student.ClassifierKeys.Contains(r.StudentKey)), r => Assert.NotEqual("kept student init", r.Method));
        TensorAssert.Identical(classifier, student.state_dict()[student.ClassifierKeys[0]], "classifier");
        student.eval();
        int size = Math.Min(student.Spec.ImageSize, 32); // a ViT needs its own size; the CNNs run at any
        using var x = randn(2, 3, size, size);
        using var logits = student.forward(x);
        Assert.Equal(new long[] { 2, student.NumClasses }, logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
    }
}

using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Selection;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Selection;

/// <summary>Each error lists every offending key, and nothing is written.</summary>
public class ErrorTests
{
    static readonly VitSize Teacher = new(8, 2, 8, 16), Student = new(4, 1, 4, 8);

    static WeightSelectionException SelectFails(StateDict teacher, StateDict student, SelectionOptions? options = null) =>
        Assert.Throws<WeightSelectionException>(() => WeightSelector.Select(teacher, student, options: options));

    static void AssertListed(WeightSelectionException error, SelectionProblemKind kind, params string[] keys)
    {
        foreach (var key in keys)
        {
            Assert.Contains(error.Problems, p => p.Kind == kind && p.Key == key);
            Assert.Contains(key, error.Message);
        }
    }

    [Fact]
    public void AStudentLargerThanItsTeacherListsEveryKey()
    {
        using var teacher = TestModels.Vit(Teacher, TestModels.Encoded);
        using var student = TestModels.Vit(Student with { Embed = 12, Depth = 2 }, TestModels.Encoded);
        student["patch_embed.proj.weight"] = zeros(12, 4, 2, 2); // 4 input channels on an unbound axis, teacher has 3

        var error = SelectFails(teacher, student);

        var embedKeys = student.Keys.Where(k => !k.StartsWith("head.") && !k.EndsWith("qkv.bias") && !k.EndsWith("fc1.bias")).ToArray();
        AssertListed(error, SelectionProblemKind.StudentLargerThanTeacher, embedKeys);
        Assert.Contains(error.Problems, p => p.Key == "patch_embed.proj.weight" && p.Detail.Contains("axis 1: 4 > 3"));
    }

    [Fact]
    public void AStudentWithMoreLayersThanItsTeacherNamesTheLayerGroup()
    {
        using var teacher = TestModels.Vit(Teacher, TestModels.Encoded);
        using var student = TestModels.Vit(Student with { Depth = 3 }, TestModels.Encoded);
        var error = SelectFails(teacher, student);
        AssertListed(error, SelectionProblemKind.StudentLargerThanTeacher, "blocks");
        Assert.Contains("3 layers", error.Message);
    }

    [Fact]
    public void ARankMismatchListsEveryKey()
    {
        using var teacher = TestModels.Vit(Teacher, TestModels.Encoded);
        using var student = TestModels.Vit(Student, TestModels.Encoded);
        student["pos_embed"] = zeros(17, 4);
        student["blocks.0.mlp.fc1.weight"] = zeros(8, 4, 1, 1); // ViT has no conv_mlp rule
        var error = SelectFails(teacher, student);
        AssertListed(error, SelectionProblemKind.RankMismatch, "pos_embed", "blocks.0.mlp.fc1.weight");
    }

    [Fact]
    public void AMissingTeacherKeyListsEveryKey()
    {
        using var teacher = TestModels.Vit(Teacher, TestModels.Encoded);
        using var student = TestModels.Vit(Student, TestModels.Encoded);
        student.Add("blocks.0.ls1.gamma", ones(4));
        student.Add("fc_norm.weight", ones(4));
        var error = SelectFails(teacher, student);
        AssertListed(error, SelectionProblemKind.MissingTeacherKey, "blocks.0.ls1.gamma", "fc_norm.weight");
    }

    [Fact]
    public void ATeacherOfAnotherFamilyIsRejected()
    {
        using var teacher = TestModels.ResNet(false, new[] { 1, 1, 1, 1 }, new[] { 8, 8, 8, 8 }, 8, TestModels.Encoded);
        using var student = TestModels.Vit(Student, TestModels.Encoded);
        var error = SelectFails(teacher, student);
        var problem = Assert.Single(error.Problems);
        Assert.Equal(SelectionProblemKind.FamilyMismatch, problem.Kind);
        Assert.Equal("teacher", problem.Key);
        Assert.Contains("looks like resnet", problem.Detail);
        Assert.Contains("blocks.{i}.attn.qkv.weight", problem.Detail);
    }

    [Fact]
    public void TensorsThatDisagreeOnAWidthAreListed()
    {
        using var teacher = TestModels.Vit(Teacher, TestModels.Encoded);
        using var student = TestModels.Vit(Student, TestModels.Encoded);
        student["norm.weight"] = ones(6);      // embed is 4 everywhere else
        student["norm.bias"] = zeros(6);
        var error = SelectFails(teacher, student);
        var problem = Assert.Single(error.Problems, p => p.Kind == SelectionProblemKind.InconsistentWidth);
        Assert.Equal("embed", problem.Key);
        Assert.Contains("norm.weight axis 0: 8 -> 6", problem.Detail);
        Assert.Contains("norm.bias axis 0: 8 -> 6", problem.Detail);
        Assert.Contains("blocks.0.norm1.weight axis 0: 8 -> 4", problem.Detail);
    }

    [Fact]
    public void AfterAnErrorSelectIntoLeavesTheModuleUntouched()
    {
        using var teacher = TestModels.Vit(Teacher, TestModels.Random(1));
        teacher.Remove("blocks.0.mlp.fc2.bias");
        using var student = new ToyVit(Student);
        using var before = StateDict.FromModule(student);

        var error = Assert.Throws<WeightSelectionException>(() => WeightSelector.SelectInto(teacher, student));

        AssertListed(error, SelectionProblemKind.MissingTeacherKey, "blocks.0.mlp.fc2.bias");
        using var after = StateDict.FromModule(student);
        foreach (var (key, value) in before) TensorAssert.Identical(value, after[key], key);
    }

    [Fact]
    public void WholeHeadsWithoutHeadCountsIsAnOptionsError()
    {
        using var teacher = TestModels.Vit(Teacher, TestModels.Encoded);
        using var student = TestModels.Vit(Student, TestModels.Encoded);
        var error = SelectFails(teacher, student, new SelectionOptions { WholeHeads = true, TeacherHeads = 4 });
        AssertListed(error, SelectionProblemKind.InvalidOptions, "WholeHeads");
    }
}

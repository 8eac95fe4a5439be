using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Selection;
using TorchSharp;

namespace MLNet.WeightSelection.MLNet;

/// <summary>Builds the student the options describe and initializes it (weight selection or its own random init).</summary>
internal static class StudentFactory
{
    /// <summary>The student's architecture as the options name it (before classes and image size are applied).</summary>
    public static ModelSpec Architecture(WeightSelectionOptions options) =>
        options.Student?.Resolve()
        ?? throw new ArgumentException("WeightSelectionOptions.Student is required: a preset name such as \"vit_tiny_patch16_224\", JSON, or a ModelSpec.");

    /// <summary>The student's spec: the architecture with the label's classes, the image size and the drop-path rate.</summary>
    public static ModelSpec Spec(WeightSelectionOptions options, ModelSpec architecture, int classCount, int imageSize)
    {
        var spec = ModelRegistry.WithOverrides(architecture, classCount, imageSize);
        if (options.DropPathRate is { } rate)
        {
            spec = spec.WithDropPathRate(rate);
            spec.Validate();
        }
        return spec;
    }

    /// <summary>
    /// Selection options from the weight-selection options. Whole-head selection takes both head counts from the ViT
    /// specs, since a checkpoint's keys do not show them.
    /// </summary>
    public static SelectionOptions Selection(WeightSelectionOptions options, ModelSpec teacher, ModelSpec student)
    {
        var selection = new SelectionOptions
        {
            LayerSelection = options.LayerSelection ?? throw new ArgumentException("LayerSelection must not be null."),
            ElementSelection = options.ElementSelection ?? throw new ArgumentException("ElementSelection must not be null."),
            WholeHeads = options.WholeHeads,
        };
        if (!options.WholeHeads) return selection;
        return selection with { TeacherHeads = AttentionHeads(teacher, "teacher"), StudentHeads = AttentionHeads(student, "student") };
    }

    /// <summary>
    /// Refuses <see cref="WeightSelectionOptions.WholeHeads"/> where it would do nothing or cannot apply, before any
    /// work: with random init nothing is selected, and only a ViT student has attention heads.
    /// </summary>
    public static void CheckWholeHeads(WeightSelectionOptions options, ModelSpec student)
    {
        if (!options.WholeHeads) return;
        if (options.Initialization != Initialization.WeightSelection)
            throw new ArgumentException(
                $"WholeHeads selects the teacher's attention heads, but Initialization is {options.Initialization}, which selects nothing. " +
                "Set WholeHeads = false, or Initialization = Initialization.WeightSelection.");
        AttentionHeads(student, "student");
    }

    static int AttentionHeads(ModelSpec spec, string role) => ModelFamilies.Get(spec.Family).AttentionHeads(spec)
        ?? throw new ArgumentException($"WholeHeads selects attention heads, which only a ViT has, but the {role} is a '{spec.Family}'. Set WholeHeads = false.");

    /// <summary>
    /// Checks, from keys and shapes only, that the teacher can initialize the student: same family, and no student
    /// width or depth larger than the teacher's. Throws <see cref="WeightSelectionException"/> listing every problem.
    /// </summary>
    /// <returns>The selection plan, for selecting from the same teacher later without planning again.</returns>
    public static SelectionPlan CheckSelectable(TeacherHandle teacher, ImageClassifier student, SelectionOptions selection)
    {
        if (!string.Equals(teacher.Spec.Family, student.Spec.Family, StringComparison.Ordinal))
            throw new ArgumentException(
                $"The teacher is a '{teacher.Spec.Family}' and the student a '{student.Spec.Family}': weight selection needs both of the same family.");
        return SelectionPlanner.Plan(teacher.Weights, WeightSelector.StudentTensors(student), null, selection with { ClassifierKeys = student.ClassifierKeys });
    }

    /// <summary>Creates the student with its own initialization from <paramref name="seed"/>.</summary>
    public static ImageClassifier Create(ModelSpec spec, int seed)
    {
        torch.manual_seed(seed);
        return spec.CreateModel();
    }
}

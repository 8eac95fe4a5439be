using MLNet.WeightSelection.Models;

namespace MLNet.WeightSelection.Training;

/// <summary>What the fitted recipe knows about the data and the models before training.</summary>
/// <param name="TrainingImages">Images the student trains on (after the validation split).</param>
/// <param name="ValidationImages">Images it is validated on (0 without validation).</param>
/// <param name="Classes">Classes of the label.</param>
/// <param name="ImageSize">Side of the training images, already resolved with <see cref="TrainingRecipe.ImageSize"/>.</param>
/// <param name="SelectsFromTeacher">True when the student's weights are selected from a teacher (not random init).</param>
/// <param name="TeacherImageSize">The image size the teacher was made for (its architecture's), or null when not known.</param>
/// <param name="StudentFamily">The student's model family (its recipe hints, such as <see cref="ModelFamily.SmallDataRandAugment"/>), or null when not known.</param>
public sealed record DataProfile(int TrainingImages, int ValidationImages, int Classes, int ImageSize, bool SelectsFromTeacher, int? TeacherImageSize = null,
    ModelFamily? StudentFamily = null);

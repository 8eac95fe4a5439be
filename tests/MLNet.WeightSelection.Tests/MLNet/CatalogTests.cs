using Microsoft.ML;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>The plain-parameter catalog overload fills the options as documented.</summary>
public class CatalogTests
{
    [Fact]
    public void Plain_overload_sets_teacher_student_columns_and_epochs_and_keeps_other_defaults()
    {
        string folder = TestPaths.NewTempDirectory();
        string teacher = TinyModels.SaveTeacher(folder);
        var ml = new MLContext(seed: 1);
        var estimator = ml.Transforms.InitializeFromTeacher(teacher, TinyModels.Teacher().ToJson(), TinyModels.Student().ToJson(),
            labelColumnName: "Class", imageColumnName: "Picture", epochs: 3);
        var o = estimator.Options;
        Assert.Contains(teacher, o.Teacher!.Description);
        Assert.Equal(TinyModels.Student().Channels, ((global::MLNet.WeightSelection.Models.ResNet.ResNetSpec)o.Student!.Resolve()).Channels);
        Assert.Equal(("Class", "Picture", 3), (o.LabelColumnName, o.ImageColumnName, o.Epochs));
        // The recipe's other members stay null: fitted to the data at Fit.
        Assert.Equal(("Score", "PredictedLabel", (int?)null, 0.1), (o.ScoreColumnName, o.PredictedLabelColumnName, o.BatchSize, o.ValidationFraction));
        Assert.Equal(Initialization.WeightSelection, o.Initialization);

        var fitted = ml.Transforms.InitializeFromTeacher(teacher, TinyModels.Teacher().ToJson(), TinyModels.Student().ToJson()).Options;
        Assert.Null(fitted.Epochs);
    }
}

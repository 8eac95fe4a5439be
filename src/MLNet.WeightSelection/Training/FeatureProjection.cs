using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// Linear–GELU–Linear projection of the student's pooled features to the teacher's width, used by feature
/// distillation. It trains with the student and is discarded afterwards.
/// </summary>
internal sealed class FeatureProjection : nn.Module<Tensor, Tensor>
{
    readonly Linear fc1;
    readonly GELU act;
    readonly Linear fc2;

    public FeatureProjection(int studentFeatures, int teacherFeatures) : base(nameof(FeatureProjection))
    {
        fc1 = nn.Linear(studentFeatures, teacherFeatures);
        act = nn.GELU();
        fc2 = nn.Linear(teacherFeatures, teacherFeatures);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var hidden = fc1.forward(x);
        using var activated = act.forward(hidden);
        return fc2.forward(activated);
    }
}

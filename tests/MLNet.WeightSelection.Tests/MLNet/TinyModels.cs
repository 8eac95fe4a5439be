using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.ResNet;
using TorchSharp;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>Tiny ResNets for the MLNet tests: a teacher and a half-width student of the same family.</summary>
public static class TinyModels
{
    /// <summary>The teacher: basic blocks, one per stage, widths 16-32-64-128, stem 16.</summary>
    public static ResNetSpec Teacher(int classes = 10) => new()
    {
        Layers = new[] { 1, 1, 1, 1 }, Channels = new[] { 16, 32, 64, 128 }, PlainStemWidth = 16, NumClasses = classes, ImageSize = 16,
    };

    /// <summary>The student: half the teacher's widths.</summary>
    public static ResNetSpec Student() => new()
    {
        Layers = new[] { 1, 1, 1, 1 }, Channels = new[] { 8, 16, 32, 64 }, PlainStemWidth = 8, NumClasses = 2, ImageSize = 16,
    };

    /// <summary>A freshly initialized teacher saved as safetensors under timm's names; returns the file's path.</summary>
    public static string SaveTeacher(string folder, ResNetSpec? spec = null, int seed = 7)
    {
        torch.manual_seed(seed);
        using var model = (spec ?? Teacher()).CreateModel();
        using var weights = StateDict.FromModule(model);
        string path = Path.Combine(folder, "teacher.safetensors");
        SafeTensorsWriter.Save(path, weights);
        return path;
    }
}

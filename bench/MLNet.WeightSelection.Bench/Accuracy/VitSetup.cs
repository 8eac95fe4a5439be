using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.Vit;

namespace MLNet.WeightSelection.Bench.Accuracy;

/// <summary>
/// The ViT transfer experiment's models and data split: a ViT/4 at 32 px, 12 blocks of 3 heads, pretrained on
/// Fashion-MNIST classes 0–4 (T-shirt, Trouser, Pullover, Dress, Coat); students learn classes 5–9 (Sandal, Shirt,
/// Sneaker, Bag, Ankle boot).
/// </summary>
static class VitSetup
{
    public static readonly int[] TeacherClasses = { 0, 1, 2, 3, 4 };
    public static readonly int[] StudentClasses = { 5, 6, 7, 8, 9 };
    public const int ImageSize = 32;
    public const int Patch = 4;
    public const int Heads = 3;

    public static VisionTransformerSpec Spec(int embed, int depth, int classes, double dropPath) => new()
    {
        ImageSize = ImageSize,
        PatchSize = Patch,
        EmbedDim = embed,
        Depth = depth,
        NumHeads = Heads,
        NumClasses = classes,
        DropPathRate = dropPath,
        Input = InputConvention.Inception,
    };

    /// <summary>Where the teacher of width <paramref name="embed"/> lives (git-ignored): its resumable training state and final weights.</summary>
    public static string TeacherFolder(int embed) => Infra.Repo.Out($"vit-teacher-e{embed}");

    public static string TeacherWeights(int embed) => Path.Combine(TeacherFolder(embed), "teacher.safetensors");

    public static string TeacherSpecFile(int embed) => Path.Combine(TeacherFolder(embed), "teacher.json");
}

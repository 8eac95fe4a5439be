using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Tests.MLNet;

namespace MLNet.WeightSelection.Tests.Samples;

/// <summary>Tiny ImageFolders and a tiny ResNet teacher checkpoint for the sample's tests.</summary>
internal static class SampleFixtures
{
    public static readonly string[] Classes = { "circle", "cross", "stripes" };

    /// <summary>A 4-stage ResNet teacher with channels 16..128 (and 5 classes of its own).</summary>
    public const string TeacherSpec =
        """{"family": "resnet", "block": "basic", "layers": [1, 1, 1, 1], "channels": [16, 32, 64, 128], "plain_stem_width": 16, "num_classes": 5}""";

    /// <summary>Its half-width student.</summary>
    public const string StudentSpec =
        """{"family": "resnet", "block": "basic", "layers": [1, 1, 1, 1], "channels": [8, 16, 32, 64], "plain_stem_width": 8}""";

    /// <summary>Writes train/ (and test/ unless <paramref name="withTest"/> is false) with 16-px grayscale PNGs.</summary>
    public static string ImageFolder(int trainPerClass = 6, int testPerClass = 2, bool withTest = true, int size = 16)
    {
        string root = TestPaths.NewTempDirectory();
        WriteSplit(Path.Combine(root, "train"), trainPerClass, size, seed: 1);
        if (withTest) WriteSplit(Path.Combine(root, "test"), testPerClass, size, seed: 2);
        return root;
    }

    /// <summary>Class images: a filled circle, a cross, or horizontal stripes, with noise.</summary>
    public static void WriteSplit(string folder, int perClass, int size, int seed)
    {
        var rng = new Random(seed);
        for (int c = 0; c < Classes.Length; c++)
        {
            string dir = Path.Combine(folder, Classes[c]);
            Directory.CreateDirectory(dir);
            for (int i = 0; i < perClass; i++)
                TestImages.WriteGrayPng(Path.Combine(dir, $"{i:D3}.png"), size, size, (x, y) =>
                {
                    bool on = c switch
                    {
                        0 => (x - size / 2) * (x - size / 2) + (y - size / 2) * (y - size / 2) < size * size / 9,
                        1 => Math.Abs(x - size / 2) < 2 || Math.Abs(y - size / 2) < 2,
                        _ => y / 2 % 2 == 0,
                    };
                    return (byte)Math.Clamp((on ? 220 : 30) + rng.Next(-25, 26), 0, 255);
                });
        }
    }

    /// <summary>Saves a randomly initialized <see cref="TeacherSpec"/> model as safetensors.</summary>
    public static string TeacherCheckpoint()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "teacher.safetensors");
        using var model = ModelRegistry.ResolveSpec(TeacherSpec).CreateModel();
        using var weights = StateDict.FromModule(model, "tiny teacher");
        SafeTensorsWriter.Save(path, weights);
        return path;
    }
}

using MLNet.WeightSelection.Tests.MLNet;

namespace MLNet.WeightSelection.Tests.Cli;

/// <summary>A tiny ImageFolder for the CLI: train/ and test/ splits, one subfolder per colour class (red, green, blue).</summary>
public static class TinyImageFolder
{
    /// <summary>Writes <paramref name="trainPerClass"/> and <paramref name="testPerClass"/> noisy square PNGs per class under <paramref name="root"/>.</summary>
    /// <returns><paramref name="root"/>.</returns>
    public static string Write(string root, int trainPerClass, int testPerClass, int size = 16, int seed = 3)
    {
        var rng = new Random(seed);
        foreach (var (split, count) in new[] { ("train", trainPerClass), ("test", testPerClass) })
            for (int c = 0; c < 3; c++)
            {
                string folder = Path.Combine(root, split, TestImages.ColourNames[c]);
                Directory.CreateDirectory(folder);
                for (int i = 0; i < count; i++)
                    TestImages.WritePng(Path.Combine(folder, $"{i}.png"), size, size, (_, _) =>
                    {
                        byte hi = (byte)rng.Next(160, 256), a = (byte)rng.Next(0, 90), b = (byte)rng.Next(0, 90);
                        return c switch { 0 => (hi, a, b), 1 => (a, hi, b), _ => (a, b, hi) };
                    });
            }
        return root;
    }
}

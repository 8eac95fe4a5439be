using MLNet.WeightSelection.Training;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Training;

/// <summary>Generated image tasks for training tests.</summary>
public static class TrainingData
{
    /// <summary>
    /// A trivially separable task: each class brightens its own colour (class c lifts channel c mod 3, and classes
    /// 3 and up lift all channels by a class-dependent amount) over uniform noise. Labels cycle through the classes
    /// in a seeded shuffle.
    /// </summary>
    public static ImageTensorDataset Separable(int count, int size = 16, int classes = 4, int seed = 0)
    {
        var random = new Random(seed);
        var labels = Enumerable.Range(0, count).Select(i => (long)(i % classes)).ToArray();
        random.Shuffle(labels);
        var pixels = new byte[count * 3 * size * size];
        int plane = size * size;
        for (int n = 0; n < count; n++)
        {
            int c = (int)labels[n];
            for (int ch = 0; ch < 3; ch++)
            {
                int lift = c < 3 ? (ch == c ? 150 : 0) : 60 + 40 * (c - 3);
                for (int p = 0; p < plane; p++)
                    pixels[(n * 3 + ch) * plane + p] = (byte)Math.Min(255, random.Next(0, 90) + lift);
            }
        }
        return new ImageTensorDataset(tensor(pixels, new long[] { count, 3, size, size }), tensor(labels), classes);
    }

    /// <summary>Options for fast tests: no augmentation, short warmup, a fixed seed.</summary>
    public static TrainingOptions FastOptions(int epochs = 3, int batchSize = 16) => new()
    {
        Epochs = epochs,
        BatchSize = batchSize,
        LearningRate = 1e-2,
        WarmupEpochs = 0.5,
        Augmentation = AugmentationOptions.None,
        Seed = 7,
    };

    /// <summary>A copy of every parameter and buffer of <paramref name="model"/>.</summary>
    public static Dictionary<string, float[]> Snapshot(TorchSharp.torch.nn.Module model) =>
        model.state_dict().Where(kv => kv.Value.is_floating_point())
            .ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().data<float>().ToArray());

    /// <summary>Largest absolute difference between two snapshots with the same keys.</summary>
    public static double MaxDifference(Dictionary<string, float[]> a, Dictionary<string, float[]> b)
    {
        Xunit.Assert.Equal(a.Keys.OrderBy(k => k), b.Keys.OrderBy(k => k));
        double max = 0;
        foreach (var (key, values) in a)
            for (int i = 0; i < values.Length; i++) max = Math.Max(max, Math.Abs(values[i] - b[key][i]));
        return max;
    }
}

using System.Globalization;
using System.IO.Compression;

namespace MLNet.WeightSelection.Bench.Accuracy;

/// <summary>
/// Square grey images with labels, as the estimator experiments use them: Fashion-MNIST (28 px) or scikit-learn's
/// handwritten digits (8 px, Debian's python3-sklearn). <see cref="FeaturizerSide"/> is the canvas the featurizer
/// baseline draws each image on before ML.NET resizes it to 224 px (Fashion-MNIST keeps its 32 px padding of
/// fmnist-resnet, so cached features stay valid).
/// </summary>
sealed record GreyImageSet(string Name, int Side, byte[] Pixels, byte[] Labels, string[] ClassNames, int FeaturizerSide)
{
    public const string DigitsFile = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz";

    public int Count => Labels.Length;

    public IReadOnlyList<(int Row, int Label)> Rows() => Enumerable.Range(0, Count).Select(i => (i, (int)Labels[i])).ToList();

    public ReadOnlySpan<byte> Image(int row) => Pixels.AsSpan(row * Side * Side, Side * Side);

    public static GreyImageSet From(FashionMnist data, string split) =>
        new("fmnist-" + split, FashionMnist.Side, data.Pixels, data.Labels, FashionMnist.ClassNames, 32);

    /// <summary>
    /// scikit-learn's digits: 1,797 scans of handwritten digits, 8×8 pixels of 17 grey levels (0–16, scaled here to
    /// 0–255), 10 classes. Installs python3-sklearn when the file is missing (root only).
    /// </summary>
    public static GreyImageSet Digits()
    {
        if (!File.Exists(DigitsFile))
        {
            Console.Error.WriteLine($"{DigitsFile} is missing: installing Debian's python3-sklearn with apt-get ...");
            using var p = System.Diagnostics.Process.Start("apt-get", "install -y python3-sklearn");
            p.WaitForExit();
            if (p.ExitCode != 0 || !File.Exists(DigitsFile))
                throw new InvalidOperationException($"Could not install python3-sklearn (exit {p.ExitCode}); install it as root.");
        }
        using var file = File.OpenRead(DigitsFile);
        using var gz = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new StreamReader(gz);
        var pixels = new List<byte>();
        var labels = new List<byte>();
        string? line;
        int number = 0;
        while ((line = reader.ReadLine()) is not null)
        {
            number++;
            if (line.Trim().Length == 0) continue;
            var values = line.Split(',');
            if (values.Length != 65) throw new InvalidDataException($"{DigitsFile} line {number}: expected 64 pixels and a label, got {values.Length} values.");
            for (int i = 0; i < 64; i++)
            {
                double v = double.Parse(values[i], CultureInfo.InvariantCulture);
                if (v is < 0 or > 16) throw new InvalidDataException($"{DigitsFile} line {number}: pixel {i} is {v}, outside 0–16.");
                pixels.Add((byte)Math.Round(v * 255 / 16));
            }
            int label = (int)double.Parse(values[64], CultureInfo.InvariantCulture);
            if (label is < 0 or > 9) throw new InvalidDataException($"{DigitsFile} line {number}: label {label} is outside 0–9.");
            labels.Add((byte)label);
        }
        return new GreyImageSet("digits", 8, pixels.ToArray(), labels.ToArray(), Enumerable.Range(0, 10).Select(d => d.ToString(CultureInfo.InvariantCulture)).ToArray(), 8);
    }

    /// <summary>A seeded stratified split: <paramref name="trainPerClass"/> rows of each class for training, the rest for testing.</summary>
    public (IReadOnlyList<(int Row, int Label)> Train, IReadOnlyList<(int Row, int Label)> Test) Split(int trainPerClass, int seed)
    {
        var train = FashionMnist.Balanced(Rows(), trainPerClass, seed);
        var taken = train.Select(r => r.Row).ToHashSet();
        return (train, Rows().Where(r => !taken.Contains(r.Row)).ToList());
    }
}

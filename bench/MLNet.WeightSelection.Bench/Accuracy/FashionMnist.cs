using System.Diagnostics;
using System.IO.Compression;
using MLNet.WeightSelection.Training;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Bench.Accuracy;

/// <summary>
/// Debian's <c>dataset-fashion-mnist</c> (/usr/share/datasets/fashion-mnist, IDX files, gzip): 60,000 training and
/// 10,000 test images of 28×28 grey pixels in 10 classes. Images are zero-padded to 32×32 (the background is 0) and
/// repeated on three planes, so RGB models take them unchanged.
/// </summary>
sealed class FashionMnist
{
    public const string DefaultFolder = "/usr/share/datasets/fashion-mnist";
    public const int Side = 28;

    public static readonly string[] ClassNames =
        { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };

    FashionMnist(byte[] pixels, byte[] labels, string file)
    {
        Pixels = pixels;
        Labels = labels;
        File = file;
    }

    /// <summary>Count × 28 × 28 grey pixels.</summary>
    public byte[] Pixels { get; }

    public byte[] Labels { get; }

    public string File { get; }

    public int Count => Labels.Length;

    public static FashionMnist Train(string folder = DefaultFolder) => Load(folder, "train");

    public static FashionMnist Test(string folder = DefaultFolder) => Load(folder, "t10k");

    /// <summary>Installs the Debian package when the files are missing (root only; the benchmark script's job, not CI's).</summary>
    public static void EnsureInstalled(string folder = DefaultFolder)
    {
        if (System.IO.File.Exists(Path.Combine(folder, "train-images-idx3-ubyte.gz"))) return;
        Console.Error.WriteLine($"{folder} is missing: installing Debian's dataset-fashion-mnist with apt-get ...");
        foreach (var args in new[] { "update", "install -y dataset-fashion-mnist" })
        {
            using var p = Process.Start(new ProcessStartInfo("apt-get", args) { UseShellExecute = false })
                ?? throw new InvalidOperationException("Could not start apt-get.");
            p.WaitForExit();
            if (p.ExitCode != 0)
                throw new InvalidOperationException($"'apt-get {args}' failed with exit code {p.ExitCode}; install dataset-fashion-mnist as root.");
        }
    }

    static FashionMnist Load(string folder, string split)
    {
        EnsureInstalled(folder);
        string images = Path.Combine(folder, $"{split}-images-idx3-ubyte.gz");
        string labels = Path.Combine(folder, $"{split}-labels-idx1-ubyte.gz");
        var (imageDims, imageData) = ReadIdx(images, 0x00000803);
        var (labelDims, labelData) = ReadIdx(labels, 0x00000801);
        if (imageDims.Length != 3 || imageDims[1] != Side || imageDims[2] != Side)
            throw new InvalidDataException($"{images}: expected N×28×28 images, got {string.Join("×", imageDims)}.");
        if (labelDims[0] != imageDims[0])
            throw new InvalidDataException($"{labels} has {labelDims[0]} labels for {imageDims[0]} images in {images}.");
        if (labelData.Any(l => l > 9)) throw new InvalidDataException($"{labels}: a label is outside 0–9.");
        return new FashionMnist(imageData, labelData, images);
    }

    static (int[] Dims, byte[] Data) ReadIdx(string path, int magic)
    {
        using var file = System.IO.File.OpenRead(path);
        using var gz = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new BinaryReader(gz);
        int ReadBigEndian() => System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(reader.ReadBytes(4));
        int found = ReadBigEndian();
        if (found != magic) throw new InvalidDataException($"{path}: IDX magic 0x{found:X8}, expected 0x{magic:X8}.");
        int dims = magic & 0xFF;
        var shape = Enumerable.Range(0, dims).Select(_ => ReadBigEndian()).ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var data = reader.ReadBytes(checked((int)count));
        if (data.Length != count) throw new InvalidDataException($"{path} ends after {data.Length} of {count} bytes.");
        return (shape, data);
    }

    /// <summary>
    /// Rows of the given <paramref name="classes"/> (all when null), in file order, relabelled 0.. in the order of
    /// <paramref name="classes"/>.
    /// </summary>
    public IReadOnlyList<(int Row, int Label)> Rows(IReadOnlyList<int>? classes = null)
    {
        var map = classes is null ? Enumerable.Range(0, 10).ToArray() : Enumerable.Range(0, 10).Select(c => classes.ToList().IndexOf(c)).ToArray();
        return Enumerable.Range(0, Count).Where(i => map[Labels[i]] >= 0).Select(i => (i, map[Labels[i]])).ToList();
    }

    /// <summary>
    /// A class-balanced subset: <paramref name="perClass"/> rows of each class, the first ones of a seeded shuffle,
    /// so a smaller subset of the same seed is contained in a larger one.
    /// </summary>
    public static IReadOnlyList<(int Row, int Label)> Balanced(IReadOnlyList<(int Row, int Label)> rows, int perClass, int seed)
    {
        var random = new Random(seed);
        var shuffled = rows.ToArray();
        random.Shuffle(shuffled);
        var taken = new Dictionary<int, int>();
        var result = new List<(int, int)>();
        foreach (var r in shuffled)
        {
            taken.TryGetValue(r.Label, out int n);
            if (n >= perClass) continue;
            taken[r.Label] = n + 1;
            result.Add(r);
        }
        int classes = rows.Select(r => r.Label).Distinct().Count();
        if (result.Count != perClass * classes)
            throw new ArgumentException($"Asked for {perClass} images per class but some of the {classes} classes have fewer.");
        return result.OrderBy(r => r.Item1).ToList();
    }

    /// <summary>The rows as a 32×32 three-plane dataset (zero padding of 2 pixels on every side).</summary>
    public ImageTensorDataset ToDataset(IReadOnlyList<(int Row, int Label)> rows, int numClasses, int side = 32)
    {
        int pad = (side - Side) / 2;
        if (side < Side || (side - Side) % 2 != 0) throw new ArgumentException($"Pad to an even size ≥ 28; got {side}.");
        var pixels = new byte[(long)rows.Count * 3 * side * side];
        var labels = new long[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            var (row, label) = rows[i];
            labels[i] = label;
            for (int c = 0; c < 3; c++)
            {
                long plane = ((long)i * 3 + c) * side * side;
                for (int y = 0; y < Side; y++)
                    Array.Copy(Pixels, (long)row * Side * Side + y * Side, pixels, plane + (y + pad) * side + pad, Side);
            }
        }
        return ImageTensorDataset.FromPixels(pixels, labels, side, numClasses);
    }
}

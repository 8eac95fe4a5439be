namespace ImageClassification;

/// <summary>
/// An image data set in ImageFolder layout: one subfolder per class holding its images. The folder either has
/// <c>train/</c> (and optionally <c>test/</c>) or is itself the class folders; without <c>test/</c> a stratified test
/// split is drawn from the seed.
/// </summary>
public sealed class ImageFolder
{
    static readonly HashSet<string> ImageExtensions = new(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp" };

    ImageFolder(string root, IReadOnlyList<ModelInput> train, IReadOnlyList<ModelInput> test, IReadOnlyList<string> classes, bool testWasSplit)
    {
        Root = root;
        Train = train;
        Test = test;
        Classes = classes;
        TestWasSplit = testWasSplit;
    }

    /// <summary>The folder read.</summary>
    public string Root { get; }

    /// <summary>Training images (the students hold out a validation share of these themselves).</summary>
    public IReadOnlyList<ModelInput> Train { get; }

    /// <summary>Test images, used only for the final evaluation.</summary>
    public IReadOnlyList<ModelInput> Test { get; }

    /// <summary>Class names in ordinal order.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>True when there was no test/ folder and <see cref="Test"/> was split off the training images.</summary>
    public bool TestWasSplit { get; }

    /// <summary>Reads the folder.</summary>
    /// <param name="folder">The ImageFolder root.</param>
    /// <param name="testFraction">Share of each class's images held out as test when there is no test/ folder.</param>
    /// <param name="seed">Seed of that split.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">No class folders, a class without images, fewer than 2 classes, or test/ classes unknown to train/.</exception>
    public static ImageFolder Load(string folder, double testFraction, int seed)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!(testFraction > 0 && testFraction < 1)) throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "must be in (0, 1)");
        string root = Path.GetFullPath(folder);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"Data folder {root} does not exist.");

        string trainDir = Path.Combine(root, "train"), testDir = Path.Combine(root, "test");
        if (!Directory.Exists(trainDir))
        {
            if (Directory.Exists(testDir)) throw new InvalidDataException($"{root} has test/ but no train/ folder.");
            var (train, test) = Split(ReadClasses(root), testFraction, seed);
            return new ImageFolder(root, train, test, ClassNames(train), testWasSplit: true);
        }
        var trainRows = ReadClasses(trainDir);
        if (!Directory.Exists(testDir))
        {
            var (train, test) = Split(trainRows, testFraction, seed);
            return new ImageFolder(root, train, test, ClassNames(train), testWasSplit: true);
        }
        var testRows = ReadClasses(testDir);
        var classes = ClassNames(trainRows);
        var unknown = testRows.Select(r => r.Label).Distinct().Where(l => !classes.Contains(l)).ToList();
        if (unknown.Count > 0)
            throw new InvalidDataException($"{testDir} has classes that {trainDir} lacks: {string.Join(", ", unknown)}.");
        return new ImageFolder(root, trainRows, testRows, classes, testWasSplit: false);
    }

    /// <summary>
    /// The same folder cut to the first <paramref name="trainPerClass"/> training and <paramref name="testPerClass"/> test
    /// images of each class, in the order <see cref="Load"/> gave them. The notebook's short run (WS_NOTEBOOK_SHORT=1)
    /// uses it to check every cell in a minute instead of training on the whole folder.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A count below 1.</exception>
    public ImageFolder TakePerClass(int trainPerClass, int testPerClass)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trainPerClass, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(testPerClass, 1);
        return new ImageFolder(Root, FirstPerClass(Train, trainPerClass), FirstPerClass(Test, testPerClass), Classes, TestWasSplit);
    }

    static List<ModelInput> FirstPerClass(IEnumerable<ModelInput> rows, int perClass)
    {
        var taken = new Dictionary<string, int>(StringComparer.Ordinal);
        return rows.Where(r => (taken[r.Label] = taken.GetValueOrDefault(r.Label) + 1) <= perClass).ToList();
    }

    static List<ModelInput> ReadClasses(string directory)
    {
        var classDirs = Directory.GetDirectories(directory).OrderBy(d => d, StringComparer.Ordinal).ToList();
        if (classDirs.Count == 0)
            throw new InvalidDataException($"{directory} has no class folders; expected one subfolder of images per class (ImageFolder layout).");
        var rows = new List<ModelInput>();
        foreach (var classDir in classDirs)
        {
            string label = Path.GetFileName(classDir);
            var files = Directory.GetFiles(classDir).Where(f => ImageExtensions.Contains(Path.GetExtension(f)))
                .OrderBy(f => f, StringComparer.Ordinal).ToList();
            if (files.Count == 0)
                throw new InvalidDataException($"Class folder {classDir} has no images ({string.Join(", ", ImageExtensions)}).");
            rows.AddRange(files.Select(f => new ModelInput { Label = label, ImagePath = f }));
        }
        if (classDirs.Count < 2)
            throw new InvalidDataException($"{directory} has one class folder ({Path.GetFileName(classDirs[0])}); a classifier needs at least 2.");
        return rows;
    }

    static (List<ModelInput> Train, List<ModelInput> Test) Split(List<ModelInput> rows, double testFraction, int seed)
    {
        var rng = new Random(seed);
        var train = new List<ModelInput>();
        var test = new List<ModelInput>();
        foreach (var group in rows.GroupBy(r => r.Label))
        {
            var shuffled = group.OrderBy(_ => rng.Next()).ToList();
            int testCount = (int)Math.Round(shuffled.Count * testFraction);
            if (testCount == 0 || testCount == shuffled.Count)
                throw new InvalidDataException(
                    $"Class '{group.Key}' has {shuffled.Count} image(s): too few to split {testFraction:P0} off as test; add images or a test/ folder.");
            test.AddRange(shuffled.Take(testCount));
            train.AddRange(shuffled.Skip(testCount));
        }
        return (train, test);
    }

    static List<string> ClassNames(IEnumerable<ModelInput> rows) =>
        rows.Select(r => r.Label).Distinct().OrderBy(l => l, StringComparer.Ordinal).ToList();
}

namespace MLNet.WeightSelection.Cli.Infrastructure;

/// <summary>One image of an image folder: its path and its class (the name of the folder it sits in).</summary>
internal sealed class ImageRow
{
    /// <summary>Full path of the image file.</summary>
    public string ImagePath { get; set; } = "";

    /// <summary>Class name.</summary>
    public string Label { get; set; } = "";
}

/// <summary>
/// A dataset in ImageFolder layout (torchvision's and Model Builder's): one subfolder per class holding its images,
/// optionally split into <c>train/</c> and <c>test/</c>.
/// </summary>
internal static class ImageFolder
{
    static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp" };

    /// <summary>The training and test rows of <paramref name="folder"/>: <c>train/</c> and <c>test/</c> when present, else the folder itself as training data.</summary>
    public static (IReadOnlyList<ImageRow> Train, IReadOnlyList<ImageRow>? Test) LoadSplits(string folder, string option)
    {
        string root = CheckFolder(folder, option);
        string train = Path.Combine(root, "train"), test = Path.Combine(root, "test");
        if (!Directory.Exists(train))
        {
            if (Directory.Exists(test))
                throw new CliException($"{option}: '{root}' has test/ but no train/; put the training images in train/<class>/.");
            return (Scan(root, option), null);
        }
        var trainRows = Scan(train, option);
        var testRows = Directory.Exists(test) ? Scan(test, option) : null;
        if (testRows is not null) CheckKnownClasses(testRows, trainRows.Select(r => r.Label).Distinct().ToList(), test);
        return (trainRows, testRows);
    }

    /// <summary>The rows to evaluate in <paramref name="folder"/>: its <c>test/</c> split when present, else the folder itself.</summary>
    public static IReadOnlyList<ImageRow> LoadEvaluation(string folder, string option)
    {
        string root = CheckFolder(folder, option);
        string test = Path.Combine(root, "test");
        if (Directory.Exists(test)) return Scan(test, option);
        if (Directory.Exists(Path.Combine(root, "train")))
            throw new CliException($"{option}: '{root}' has train/ but no test/; give the folder of the images to evaluate (one subfolder per class).");
        return Scan(root, option);
    }

    /// <summary>Every image under <paramref name="folder"/>'s class subfolders, classes and files in ordinal order.</summary>
    public static IReadOnlyList<ImageRow> Scan(string folder, string option)
    {
        var classes = Directory.GetDirectories(folder).OrderBy(d => d, StringComparer.Ordinal).ToList();
        if (classes.Count == 0)
            throw new CliException($"{option}: '{folder}' has no class subfolders; expected <folder>/<class>/<image>.png (ImageFolder layout).");
        var rows = new List<ImageRow>();
        foreach (var dir in classes)
        {
            var images = Directory.GetFiles(dir).Where(f => Extensions.Contains(Path.GetExtension(f)))
                .OrderBy(f => f, StringComparer.Ordinal).ToList();
            if (images.Count == 0)
                throw new CliException($"{option}: class folder '{dir}' holds no images ({string.Join(", ", Extensions.Order())}).");
            string label = Path.GetFileName(dir);
            rows.AddRange(images.Select(f => new ImageRow { ImagePath = f, Label = label }));
        }
        return rows;
    }

    /// <summary>
    /// Takes about <paramref name="fraction"/> of each class's images (at least one, never all) as a test split, chosen
    /// by <paramref name="seed"/>; both parts keep the original order.
    /// </summary>
    public static (IReadOnlyList<ImageRow> Train, IReadOnlyList<ImageRow> Test) Split(IReadOnlyList<ImageRow> rows, double fraction, int seed)
    {
        var rng = new Random(seed);
        var test = new HashSet<ImageRow>();
        foreach (var group in rows.GroupBy(r => r.Label))
        {
            var members = group.ToList();
            if (members.Count < 2)
                throw new CliException($"Class '{group.Key}' has {members.Count} image; taking a test split needs at least 2 per class (or give a test/ folder).");
            int take = Math.Clamp((int)Math.Round(members.Count * fraction), 1, members.Count - 1);
            foreach (var row in members.OrderBy(_ => rng.Next()).Take(take)) test.Add(row);
        }
        return (rows.Where(r => !test.Contains(r)).ToList(), rows.Where(test.Contains).ToList());
    }

    static string CheckFolder(string folder, string option)
    {
        if (string.IsNullOrWhiteSpace(folder)) throw new CliException($"{option} is empty; give an image folder.");
        string root = Path.GetFullPath(folder);
        if (!Directory.Exists(root)) throw new CliException($"{option}: no folder at '{root}'.");
        return root;
    }

    static void CheckKnownClasses(IReadOnlyList<ImageRow> rows, IReadOnlyList<string> known, string folder)
    {
        var unknown = rows.Select(r => r.Label).Distinct().Where(l => !known.Contains(l)).ToList();
        if (unknown.Count > 0)
            throw new CliException($"'{folder}' has classes the training data lacks: {string.Join(", ", unknown)} (training classes: {string.Join(", ", known)}).");
    }
}

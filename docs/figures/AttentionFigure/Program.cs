// Draws the paper's Figure 5 for this library: W_q·W_kᵀ of the first attention head in the first block, for a
// randomly initialized student, a trained teacher, and the student selected from that teacher.
//
//   dotnet run --project docs/figures/AttentionFigure -c Release -- [--epochs 4] [--out docs/images/attention-wqwk.png]
//
// No pretrained ViT can be downloaded here, so the teacher is a small ViT (embed 192, depth 4, 3 heads, patch 4 at
// 32 px) trained by the library on the sample's Fashion-MNIST subset; the student has embed 96 and 3 heads.
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Selection;
using MLNet.WeightSelection.Training;
using ScottPlot;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

int epochs = IntArg("--epochs", 4);
string repo = FindRepoRoot();
string output = StringArg("--out", Path.Combine(repo, "docs", "images", "attention-wqwk.png"));
string data = StringArg("--data", Path.Combine(repo, "samples", "ImageClassification", "data", "fashion-mnist-mini", "train"));

const string TeacherSpec = """{"family":"vit","img_size":32,"patch_size":4,"embed_dim":192,"depth":4,"num_heads":3,"num_classes":10,"global_pool":"token"}""";
const string StudentSpec = """{"family":"vit","img_size":32,"patch_size":4,"embed_dim":96,"depth":4,"num_heads":3,"num_classes":10,"global_pool":"token"}""";

torch.manual_seed(1);
using var train = LoadImageFolder(data, 32);
Console.WriteLine($"{train.Count} images from {data}");

using var teacher = ModelRegistry.Create(TeacherSpec);
teacher.Input = InputConvention.Inception;
var trainer = new ImageClassifierTrainer(new TrainingOptions { Epochs = epochs, BatchSize = 64, LearningRate = 1e-3, Seed = 1 });
trainer.Train(teacher, train, null, log: Console.WriteLine);
teacher.eval();

using var random = ModelRegistry.Create(StudentSpec);
using var selected = ModelRegistry.Create(StudentSpec);
using (var teacherState = StateDict.FromModule(teacher))
{
    var report = WeightSelector.SelectInto(teacherState, selected);
    Console.WriteLine(report);
}

var maps = new (string Title, double[,] Map)[]
{
    ("student, random init", QueryKeyProduct(random, 3)),
    ("teacher (trained)", QueryKeyProduct(teacher, 3)),
    ("student, weight selection", QueryKeyProduct(selected, 3)),
};
Draw(maps, output);
Console.WriteLine($"wrote {output}");

// W_qᵀ·W_k of head 0 of block 0: [embed, embed]; timm's qkv weight is [3·inner, embed] = q, k, v row blocks.
static double[,] QueryKeyProduct(ImageClassifier model, int heads)
{
    using var scope = NewDisposeScope();
    var qkv = model.state_dict()["blocks.0.attn.qkv.weight"].detach();
    long inner = qkv.shape[0] / 3, headDim = inner / heads;
    var q = qkv.narrow(0, 0, headDim);
    var k = qkv.narrow(0, inner, headDim);
    var product = q.t().matmul(k).to_type(ScalarType.Float64);
    long n = product.shape[0];
    var values = product.data<double>().ToArray();
    var map = new double[n, n];
    for (long i = 0; i < n; i++)
        for (long j = 0; j < n; j++)
            map[i, j] = values[i * n + j];
    return map;
}

static void Draw((string Title, double[,] Map)[] maps, string path)
{
    var plot = new Plot();
    double x = 0;
    foreach (var (title, map) in maps)
    {
        // Each map fills a unit square, so a 96-wide student and a 192-wide teacher are drawn at the same size.
        var heatmap = plot.Add.Heatmap(Normalize(map));
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.Extent = new CoordinateRect(x, x + 1, 0, 1);
        var label = plot.Add.Text($"{title} ({map.GetLength(0)}×{map.GetLength(1)})", x + 0.5, 1.04);
        label.LabelAlignment = Alignment.LowerCenter;
        label.LabelFontSize = 14;
        x += 1.15;
    }
    plot.Axes.SetLimits(-0.05, x - 0.1, -0.05, 1.15);
    plot.HideGrid();
    plot.Layout.Frameless();
    plot.Axes.Frameless();
    plot.Title("First attention head, block 0: W_q·W_kᵀ (each map scaled to its own max |value|)");
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    string temporary = path + ".tmp.png";
    plot.SavePng(temporary, 1500, 560);
    File.Move(temporary, path, overwrite: true);
}

static double[,] Normalize(double[,] map)
{
    double max = 0;
    foreach (double v in map) max = Math.Max(max, Math.Abs(v));
    var result = (double[,])map.Clone();
    if (max == 0) return result;
    for (int i = 0; i < map.GetLength(0); i++)
        for (int j = 0; j < map.GetLength(1); j++)
            result[i, j] = map[i, j] / max;
    return result;
}

// An ImageFolder (class subfolders of images) as 3-plane uint8 images, centred on a size×size canvas.
static ImageTensorDataset LoadImageFolder(string folder, int size)
{
    if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"No image folder at {folder}.");
    var classes = Directory.GetDirectories(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
    var pixels = new List<byte>();
    var labels = new List<long>();
    for (int c = 0; c < classes.Length; c++)
    {
        foreach (string file in Directory.GetFiles(Path.Combine(folder, classes[c]!)).Order(StringComparer.Ordinal))
        {
            using var bitmap = SKBitmap.Decode(file) ?? throw new InvalidDataException($"{file}: not a readable image.");
            if (bitmap.Width > size || bitmap.Height > size)
                throw new InvalidDataException($"{file}: {bitmap.Width}×{bitmap.Height} is larger than {size}×{size}.");
            int left = (size - bitmap.Width) / 2, top = (size - bitmap.Height) / 2;
            var planes = new byte[3 * size * size];
            for (int y = 0; y < bitmap.Height; y++)
                for (int x = 0; x < bitmap.Width; x++)
                {
                    var color = bitmap.GetPixel(x, y);
                    int at = (y + top) * size + x + left;
                    planes[at] = color.Red;
                    planes[size * size + at] = color.Green;
                    planes[2 * size * size + at] = color.Blue;
                }
            pixels.AddRange(planes);
            labels.Add(c);
        }
    }
    return ImageTensorDataset.FromPixels(pixels.ToArray(), labels.ToArray(), size, classes.Length);
}

int IntArg(string name, int fallback) => int.TryParse(StringArg(name, ""), out int v) ? v : fallback;

string StringArg(string name, string fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
}

static string FindRepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "MLNet.WeightSelection.sln"))) return dir.FullName;
    return Directory.GetCurrentDirectory();
}

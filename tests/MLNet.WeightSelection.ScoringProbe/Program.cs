using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

// Usage: ScoringProbe <model.zip> <image folder> <rows.csv: ImagePath,Label per line> <output file>
// Loads the model, scores every row through a PredictionEngine and writes one line per row:
//   <score 1> <score 2> ... | <predicted label>
// then "libtorch-loaded: true|false" and "onnxruntime-loaded: true|false" from this process's memory maps.
if (args.Length != 4)
{
    Console.Error.WriteLine("usage: ScoringProbe <model.zip> <image folder> <rows.csv> <output file>");
    return 2;
}

var ml = new MLContext(seed: 1);
var model = ml.Model.Load(args[0], out _);
var rows = File.ReadAllLines(args[2]).Where(l => l.Length > 0).Select(l => l.Split(','))
    .Select(p => new ImageRow { ImagePath = Path.Combine(args[1], p[0]), Label = p[1] }).ToList();
using var engine = ml.Model.CreatePredictionEngine<ImageRow, Prediction>(model);

var lines = new List<string>();
foreach (var row in rows)
{
    var p = engine.Predict(row);
    lines.Add(string.Join(' ', p.Score.Select(s => s.ToString("R", CultureInfo.InvariantCulture))) + " | " + p.PredictedLabel);
}

var maps = File.Exists("/proc/self/maps") ? File.ReadAllText("/proc/self/maps") : "";
lines.Add($"libtorch-loaded: {(maps.Contains("libtorch", StringComparison.OrdinalIgnoreCase) || maps.Contains("LibTorchSharp", StringComparison.OrdinalIgnoreCase)).ToString().ToLowerInvariant()}");
lines.Add($"onnxruntime-loaded: {maps.Contains("libonnxruntime", StringComparison.Ordinal).ToString().ToLowerInvariant()}");
File.WriteAllLines(args[3], lines);
return 0;

sealed class ImageRow
{
    public string ImagePath { get; set; } = "";
    public string Label { get; set; } = "";
}

sealed class Prediction
{
    public float[] Score { get; set; } = Array.Empty<float>();
    public string PredictedLabel { get; set; } = "";
}

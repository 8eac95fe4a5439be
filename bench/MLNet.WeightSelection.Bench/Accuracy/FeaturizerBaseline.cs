using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using MLNet.WeightSelection.Bench.Inference;
using MLNet.WeightSelection.Bench.Infra;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.ResNet;

namespace MLNet.WeightSelection.Bench.Accuracy;

/// <summary>
/// What ML.NET users do today without a GPU: the image, resized to 224 px, through <c>DnnFeaturizeImage</c> with the
/// ImageNet ResNet-18 (512 pooled features), then <c>LbfgsMaximumEntropy</c> with its defaults. Features are computed
/// once per image and cached under bench/out/fmnist-featurizer (row index → 512 floats), because featurizing at 224 px
/// is by far the most expensive part.
/// </summary>
sealed class FeaturizerBaseline
{
    public const int FeatureCount = 512;
    readonly MLContext _ml = new(seed: 1);

    sealed class ImageRow
    {
        public Microsoft.ML.Data.MLImage Image { get; set; } = null!;
    }

    sealed class FeatureRow
    {
        [VectorType(FeatureCount)]
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    sealed class Example
    {
        public uint Label { get; set; }

        [VectorType(FeatureCount)]
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    /// <summary>Features of <paramref name="rows"/> of <paramref name="data"/>, cached under bench/out/<paramref name="cacheFolder"/>.</summary>
    public Dictionary<int, float[]> Featurize(GreyImageSet data, string cacheFolder, string split, IReadOnlyList<int> rows, out double secondsPerImage)
    {
        string cacheFile = Repo.Out(cacheFolder, split + ".features.bin");
        var cache = Load(cacheFile);
        var missing = rows.Where(r => !cache.ContainsKey(r)).Distinct().ToList();
        secondsPerImage = double.NaN;
        if (missing.Count > 0)
        {
            Console.Error.WriteLine($"Featurizing {missing.Count} {split} images with ResNet-18 at 224 px ...");
            var clock = Stopwatch.StartNew();
            var pipeline = _ml.Transforms.ResizeImages("Resized", 224, 224, "Image")
                .Append(_ml.Transforms.ExtractPixels("Pixels", "Resized"))
                .Append(_ml.Transforms.DnnFeaturizeImage("Features", m => m.ModelSelector.ResNet18(_ml, m.OutputColumn, m.InputColumn), "Pixels"));
            const int chunk = 500;
            for (int start = 0; start < missing.Count; start += chunk)
            {
                var part = missing.Skip(start).Take(chunk).ToList();
                // Images of any size: registered the way the library registers decoded bytes.
                global::MLNet.WeightSelection.MLNet.ImageBytesDecoder.EnsureImageTypeRegistered();
                var images = part.Select(r => new ImageRow { Image = ToImage(data, r) }).ToList();
                var view = _ml.Data.LoadFromEnumerable(images);
                var model = pipeline.Fit(view);
                var features = _ml.Data.CreateEnumerable<FeatureRow>(model.Transform(view), reuseRowObject: false).ToList();
                for (int i = 0; i < part.Count; i++) cache[part[i]] = features[i].Features;
                foreach (var img in images) img.Image.Dispose();
                Save(cacheFile, cache);
                Console.Error.WriteLine($"  {Math.Min(start + chunk, missing.Count)} / {missing.Count} ({clock.Elapsed.TotalSeconds / Math.Min(start + chunk, missing.Count) * 1000:F0} ms per image)");
            }
            secondsPerImage = clock.Elapsed.TotalSeconds / missing.Count;
        }
        return rows.Distinct().ToDictionary(r => r, r => cache[r]);
    }

    /// <summary>
    /// One stored run of the baseline: features of the subset and the test rows (cached under
    /// bench/out/<paramref name="cacheFolder"/>), <c>LbfgsMaximumEntropy</c> on the subset, accuracy on the test rows.
    /// </summary>
    public object Run(GreyImageSet trainSet, string trainSplit, GreyImageSet testSet, string testSplit, string cacheFolder,
        IReadOnlyList<(int Row, int Label)> subset, IReadOnlyList<(int Row, int Label)> testRows, int classes, int size, int seed)
    {
        var clock = Stopwatch.StartNew();
        var trainFeatures = Featurize(trainSet, cacheFolder, trainSplit, subset.Select(s => s.Row).ToList(), out double trainCost);
        var testFeatures = Featurize(testSet, cacheFolder, testSplit, testRows.Select(s => s.Row).ToList(), out double testCost);
        double featurizeSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        double accuracy = TrainAndTest(
            subset.Select(s => (trainFeatures[s.Row], s.Label)).ToList(),
            testRows.Select(s => (testFeatures[s.Row], s.Label)).ToList(), classes);
        Console.Error.WriteLine($"  -> test accuracy {accuracy:P2}");
        return new
        {
            method = "featurizer", size, seed,
            pipeline = "ResizeImages(224) → ExtractPixels → DnnFeaturizeImage(ResNet18) → LbfgsMaximumEntropy (defaults)",
            test_images = testRows.Count,
            test_accuracy = accuracy,
            featurize_seconds_this_run = featurizeSeconds,
            featurize_seconds_per_image = double.IsNaN(trainCost) ? testCost : trainCost,
            train_seconds = clock.Elapsed.TotalSeconds,
            featurizer_mmacs_per_image = ResNetFlops.Forward((ResNetSpec)ModelRegistry.ResolveSpec("resnet18"), 224, 0) / 2e6,
        };
    }

    /// <summary>Trains <c>LbfgsMaximumEntropy</c> (defaults) on the training features and returns the test accuracy.</summary>
    /// <remarks>
    /// Labels go through MapValueToKey, as in the library's own runs. (They used to be loaded as a key type of
    /// <paramref name="classes"/> values from 1-based numbers, which ML.NET reads as 0-based: the last class became a
    /// missing label, so it was left out of training and of the accuracy.)
    /// </remarks>
    public double TrainAndTest(IReadOnlyList<(float[] Features, int Label)> train, IReadOnlyList<(float[] Features, int Label)> test, int classes)
    {
        IDataView View(IReadOnlyList<(float[] Features, int Label)> rows) =>
            _ml.Data.LoadFromEnumerable(rows.Select(r => new Example { Label = (uint)r.Label, Features = r.Features }));
        var keys = _ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Fit(View(Enumerable.Range(0, classes).Select(c => (new float[FeatureCount], c)).ToList()));
        var trainer = _ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Label", "Features");
        var model = trainer.Fit(keys.Transform(View(train)));
        var scored = model.Transform(keys.Transform(View(test)));
        var metrics = _ml.MulticlassClassification.Evaluate(scored);
        long rows = scored.GetColumn<uint>("Label").LongCount(k => k > 0);
        if (rows != test.Count) throw new InvalidOperationException($"The featurizer baseline evaluated {rows} of {test.Count} test rows.");
        return metrics.MicroAccuracy;
    }

    /// <summary>The grey image centred on its featurizer canvas (zero padding), as a BGRA MLImage.</summary>
    static MLImage ToImage(GreyImageSet data, int row)
    {
        int side = data.FeaturizerSide, pad = (side - data.Side) / 2;
        var bgra = new byte[side * side * 4];
        var image = data.Image(row);
        for (int y = 0; y < data.Side; y++)
            for (int x = 0; x < data.Side; x++)
            {
                byte v = image[y * data.Side + x];
                int o = ((y + pad) * side + x + pad) * 4;
                bgra[o] = bgra[o + 1] = bgra[o + 2] = v;
            }
        for (int i = 3; i < bgra.Length; i += 4) bgra[i] = 255;
        return MLImage.CreateFromPixels(side, side, MLPixelFormat.Bgra32, bgra);
    }

    static Dictionary<int, float[]> Load(string file)
    {
        var cache = new Dictionary<int, float[]>();
        if (!File.Exists(file)) return cache;
        using var reader = new BinaryReader(File.OpenRead(file));
        int count = reader.ReadInt32();
        for (int i = 0; i < count; i++)
        {
            int row = reader.ReadInt32();
            var f = new float[FeatureCount];
            for (int j = 0; j < FeatureCount; j++) f[j] = reader.ReadSingle();
            cache[row] = f;
        }
        return cache;
    }

    static void Save(string file, Dictionary<int, float[]> cache)
    {
        string temp = file + ".tmp";
        using (var writer = new BinaryWriter(File.Create(temp)))
        {
            writer.Write(cache.Count);
            foreach (var (row, f) in cache)
            {
                writer.Write(row);
                foreach (var v in f) writer.Write(v);
            }
        }
        File.Move(temp, file, overwrite: true);
    }
}

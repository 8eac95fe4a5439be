using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.WeightSelection.MLNet;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>The scoring chain on a hand-written ONNX student: no TorchSharp involved.</summary>
public class ScoringChainTests
{
    const int Size = 8;

    static readonly float[,] Identity4 = { { 4, 0, 0 }, { 0, 4, 0 }, { 0, 0, 4 } };

    sealed record Fixture(MLContext Ml, IDataView Data, TransformerChain<ITransformer> Chain, IDataView PixelData, string Folder);

    static Fixture Build(string score = "Score", string predicted = "PredictedLabel")
    {
        string dir = TestPaths.NewTempDirectory();
        var rows = TestImages.Colours(dir, perClass: 4);
        var ml = new MLContext(seed: 1);
        var raw = ml.Data.LoadFromEnumerable(rows);
        var data = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.LoadImages("Image", dir, "ImagePath")).Fit(raw).Transform(raw);
        var label = LabelColumn.Inspect(data.Schema, "Label");
        var image = ImageColumn.Inspect(data.Schema, "Image");
        var (steps, temporaries) = PixelPipeline.Build(ml, image, Size);
        var pixels = steps.Fit(data);
        var pixelData = pixels.Transform(data);
        var student = ToyStudentOnnx.Build(Size, Identity4);
        var chain = ScoringChain.Build(ml, pixels, temporaries, pixelData, student, label, score, predicted, (null, false));
        return new Fixture(ml, data, chain, pixelData, dir);
    }

    [Fact]
    public void Score_is_the_students_probabilities_in_key_order_and_PredictedLabel_the_labels_key()
    {
        var f = Build();
        var scored = f.Chain.Transform(f.Data);

        var scoreType = Assert.IsType<VectorDataViewType>(scored.Schema["Score"].Type);
        Assert.Equal(NumberDataViewType.Single, scoreType.ItemType);
        Assert.Equal(new[] { 3 }, scoreType.Dimensions.ToArray());
        VBuffer<ReadOnlyMemory<char>> slots = default;
        scored.Schema["Score"].GetSlotNames(ref slots);
        Assert.Equal(TestImages.ColourNames, slots.DenseValues().Select(s => s.ToString()));

        Assert.Equal(f.Data.Schema["Label"].Type, scored.Schema["PredictedLabel"].Type);
        VBuffer<ReadOnlyMemory<char>> keys = default;
        scored.Schema["PredictedLabel"].GetKeyValues(ref keys);
        Assert.Equal(TestImages.ColourNames, keys.DenseValues().Select(s => s.ToString()));
        Assert.DoesNotContain(scored.Schema, c => !c.IsHidden && c.Name.StartsWith("WeightSelection.", StringComparison.Ordinal));

        // Expected: softmax(4 · mean channel / 255) from the same pixels ML.NET extracted.
        var pixels = f.PixelData.GetColumn<float[]>("WeightSelection.Pixels").ToArray();
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        var predicted = scored.GetColumn<uint>("PredictedLabel").ToArray();
        Assert.Equal(12, scores.Length);
        for (int r = 0; r < scores.Length; r++)
        {
            int plane = Size * Size;
            var logits = Enumerable.Range(0, 3).Select(c => 4.0 * pixels[r].Skip(c * plane).Take(plane).Average() / 255.0).ToArray();
            double z = logits.Sum(Math.Exp);
            for (int c = 0; c < 3; c++) Assert.Equal(Math.Exp(logits[c]) / z, scores[r][c], 5);
            Assert.Equal((uint)(Array.IndexOf(scores[r], scores[r].Max()) + 1), predicted[r]);
        }

        var named = f.Ml.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel")
            .Append(f.Ml.Transforms.Conversion.MapKeyToValue("TrueName", "Label")).Fit(scored).Transform(scored);
        Assert.Equal(named.GetColumn<string>("TrueName"), named.GetColumn<string>("PredictedName"));
        var metrics = f.Ml.MulticlassClassification.Evaluate(scored);
        Assert.Equal(1.0, metrics.MicroAccuracy, 6);
    }

    [Fact]
    public void Custom_column_names_replace_the_defaults_without_leftovers()
    {
        var f = Build(score: "Probabilities", predicted: "Class");
        var scored = f.Chain.Transform(f.Data);
        Assert.NotNull(scored.Schema.GetColumnOrNull("Probabilities"));
        Assert.IsType<KeyDataViewType>(scored.Schema["Class"].Type);
        Assert.Null(scored.Schema.GetColumnOrNull("Score"));
        Assert.Null(scored.Schema.GetColumnOrNull("PredictedLabel"));
    }

    [Fact]
    public void Saved_chain_loads_and_scores_the_same()
    {
        var f = Build();
        string path = Path.Combine(f.Folder, "model.zip");
        f.Ml.Model.Save(f.Chain, f.Data.Schema, path);
        var ml2 = new MLContext(seed: 2);
        var loaded = ml2.Model.Load(path, out _);
        var expected = f.Chain.Transform(f.Data).GetColumn<float[]>("Score").ToArray();
        var scored = loaded.Transform(f.Data);
        var actual = scored.GetColumn<float[]>("Score").ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (int r = 0; r < expected.Length; r++) Assert.Equal(expected[r], actual[r]);
        VBuffer<ReadOnlyMemory<char>> slots = default;
        scored.Schema["Score"].GetSlotNames(ref slots);
        Assert.Equal(TestImages.ColourNames, slots.DenseValues().Select(s => s.ToString()));
        Assert.Equal(f.Data.Schema["Label"].Type, scored.Schema["PredictedLabel"].Type);
    }
}

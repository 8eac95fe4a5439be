using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.WeightSelection.MLNet;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>Batched scoring (<see cref="ScoringChain.TransformBatched"/>) against the row-by-row chain, on a hand-written ONNX student.</summary>
public class BatchedScoringTests
{
    const int Size = 8;

    static readonly float[,] Weights = { { 4, 0, 1 }, { 0, 4, 1 }, { 1, 0, 4 } };

    sealed record Fixture(IDataView Data, TransformerChain<ITransformer> Chain, BatchedStudent Student, string Folder);

    static Fixture Build(int perClass, Action<string, List<TestImages.Row>>? spoil = null)
    {
        string dir = TestPaths.NewTempDirectory();
        var rows = TestImages.Colours(dir, perClass);
        spoil?.Invoke(dir, rows);
        var ml = new MLContext(seed: 1);
        var data = TestImages.LoadKeyed(ml, rows, dir);
        var label = LabelColumn.Inspect(data.Schema, "Label");
        var (steps, temporaries) = PixelPipeline.Build(ml, ImageColumn.Inspect(data.Schema, "Image"), Size);
        var pixels = steps.Fit(data);
        var student = ToyStudentOnnx.Build(Size, Weights);
        var chain = ScoringChain.Build(ml, pixels, temporaries, pixels.Transform(data), student, label, "Score", "PredictedLabel", (null, false));
        return new Fixture(data, chain, new BatchedStudent(student), dir);
    }

    [Fact]
    public void Scores_like_the_row_by_row_chain_with_one_call_per_64_rows()
    {
        var f = Build(perClass: 50); // 150 rows: two full batches and one of 22
        using var student = f.Student;
        var expected = f.Chain.Transform(f.Data);
        var actual = ScoringChain.TransformBatched(f.Chain, student, f.Data);

        Assert.Equal(expected.Schema.Select(c => (c.Name, c.Type.ToString())), actual.Schema.Select(c => (c.Name, c.Type.ToString())));
        Assert.Equal(expected.Schema["Score"].Annotations.Schema.Select(c => c.Name), actual.Schema["Score"].Annotations.Schema.Select(c => c.Name));
        var want = expected.GetColumn<float[]>("Score").ToArray();
        var got = actual.GetColumn<float[]>("Score").ToArray();
        Assert.Equal(150, got.Length);
        Assert.Equal(3, student.Calls);
        for (int i = 0; i < want.Length; i++)
            for (int k = 0; k < 3; k++)
                Assert.Equal(want[i][k], got[i][k], 1e-6f);
        Assert.Equal(expected.GetColumn<uint>("PredictedLabel"), actual.GetColumn<uint>("PredictedLabel"));
        Assert.Equal(expected.GetColumn<string>("ImagePath"), actual.GetColumn<string>("ImagePath"));
        // The toy student sees the colour, so the predictions are the labels: a check that rows stayed aligned.
        Assert.Equal(actual.GetColumn<uint>("Label"), actual.GetColumn<uint>("PredictedLabel"));
    }

    [Fact]
    public void Reading_no_score_runs_no_student_and_a_cursor_set_reads_each_row_once()
    {
        var f = Build(perClass: 10);
        using var student = f.Student;
        var scored = ScoringChain.TransformBatched(f.Chain, student, f.Data);
        Assert.Equal(30, scored.GetColumn<string>("ImagePath").Count());
        Assert.Equal(0, student.Calls);

        // ML.NET's row mappers after the view split its one cursor into the n asked for; rows are not lost or repeated.
        var cursors = scored.GetRowCursorSet(new[] { scored.Schema["Score"], scored.Schema["ImagePath"] }, 4);
        var seen = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.ForEach(cursors, cursor =>
        {
            var score = cursor.GetGetter<VBuffer<float>>(scored.Schema["Score"]);
            var path = cursor.GetGetter<ReadOnlyMemory<char>>(scored.Schema["ImagePath"]);
            VBuffer<float> value = default;
            ReadOnlyMemory<char> name = default;
            while (cursor.MoveNext())
            {
                score(ref value);
                path(ref name);
                Assert.Equal(3, value.Length);
                Assert.Equal(1f, value.DenseValues().Sum(), 1e-5f);
                seen.Add(name.ToString());
            }
            cursor.Dispose();
        });
        int rows = seen.Count;
        Assert.Equal(30, seen.Distinct().Count());
        Assert.Equal(30, rows);
        Assert.Equal(1, student.Calls);
    }

    [Fact]
    public void An_unreadable_image_fails_the_batch_that_holds_it_as_the_chain_fails_its_row()
    {
        var f = Build(perClass: 30, spoil: (dir, rows) => File.WriteAllText(Path.Combine(dir, rows[70].ImagePath), "not a png"));
        using var student = f.Student;
        var chainError = Assert.ThrowsAny<Exception>(() => f.Chain.Transform(f.Data).GetColumn<float[]>("Score").ToArray());
        var batchedError = Assert.ThrowsAny<Exception>(() => ScoringChain.TransformBatched(f.Chain, student, f.Data).GetColumn<float[]>("Score").ToArray());
        Assert.Equal(chainError.GetType(), batchedError.GetType());
        Assert.Equal(Innermost(chainError).Message, Innermost(batchedError).Message);
    }

    static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.WeightSelection.MLNet;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>
/// Reading on several threads gives the same pixels, labels, skipped rows and errors as one thread, in row order, for
/// every image kind; and training's bytes are the pixels the scoring chain gives ONNX.
/// </summary>
public class ParallelReadTests
{
    sealed record Read(byte[] Pixels, long[] Labels, long RowsSeen, (long Row, string Reason)[] Skipped);

    static Read ReadAll(IDataView data, string imageColumn, int size, int? workers, int? blockRows = null, bool skip = false, Action? throwIfCanceled = null,
        int? threadCap = null)
    {
        var ml = new MLContext(seed: 1);
        var image = ImageColumn.Inspect(data.Schema, imageColumn);
        var label = LabelColumn.Inspect(data.Schema, "Label");
        var pixels = PixelPipeline.Build(ml, image, size).Steps.Fit(data);
        var (view, column) = PixelPipeline.ForTraining(ml, pixels, data, image);
        using var buffer = new PixelBuffer(3 * size * size, long.MaxValue);
        var rows = ImageRows.Read(view, column, label, size, imageColumn, skip, throwIfCanceled ?? (() => { }), buffer, workers, blockRows, threadCap);
        using var dataset = buffer.ToDataset(rows.Labels, size, label.ClassCount);
        return new Read(dataset.Images.data<byte>().ToArray(), rows.Labels, rows.RowsSeen, rows.Skipped.ToArray());
    }

    static void AssertSame(Read expected, Read actual)
    {
        Assert.Equal(expected.Labels, actual.Labels);
        Assert.Equal(expected.RowsSeen, actual.RowsSeen);
        Assert.Equal(expected.Skipped, actual.Skipped);
        Assert.True(expected.Pixels.AsSpan().SequenceEqual(actual.Pixels), "The pixels differ.");
    }

    static (MLContext Ml, List<TestImages.Row> Rows, string Folder) Pngs(int perClass)
    {
        string folder = TestPaths.NewTempDirectory();
        return (new MLContext(seed: 1), TestImages.Colours(folder, perClass, size: 10), folder);
    }

    [Fact]
    public void Png_files_read_on_several_threads_equal_one_thread_byte_for_byte()
    {
        var (ml, rows, folder) = Pngs(perClass: 15);
        var data = TestImages.LoadKeyed(ml, rows, folder);
        var one = ReadAll(data, "Image", 16, workers: 1);
        Assert.Equal(45, one.Labels.Length);
        AssertSame(one, ReadAll(data, "Image", 16, workers: 3, blockRows: 2));
        AssertSame(one, ReadAll(data, "Image", 16, workers: 2));
    }

    [Fact]
    public void Encoded_bytes_read_on_several_threads_equal_one_thread_byte_for_byte()
    {
        var (ml, rows, folder) = Pngs(perClass: 15);
        var raw = ml.Data.LoadFromEnumerable(rows);
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.LoadRawImageBytes("Bytes", folder, "ImagePath")).Fit(raw).Transform(raw);
        var one = ReadAll(data, "Bytes", 16, workers: 1);
        Assert.Equal(45, one.Labels.Length);
        AssertSame(one, ReadAll(data, "Bytes", 16, workers: 3, blockRows: 2));
        // The same pixels as LoadImages gives.
        AssertSame(one, ReadAll(TestImages.LoadKeyed(ml, rows, folder), "Image", 16, workers: 1));
    }

    sealed class Numbered
    {
        public int Index { get; set; }

        public string Label { get; set; } = "";
    }

    sealed class Counter
    {
        public int Index { get; set; }
    }

    sealed class GrayPixels
    {
        [VectorType(1, 6, 6)]
        public float[] Pixels { get; set; } = Array.Empty<float>();
    }

    /// <summary>
    /// Rows labelled <c>index % 3</c> whose one-plane 6 × 6 pixels all hold <c>index % 251</c>, made by a custom mapping
    /// on the thread that reads them (noted in <paramref name="onWorker"/>); every seventh row takes 3 ms, so blocks
    /// finish out of order.
    /// </summary>
    static IDataView Counted(MLContext ml, IEnumerable<Numbered> rows, ConcurrentDictionary<int, bool>? onWorker = null)
    {
        var raw = ml.Data.LoadFromEnumerable(rows);
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(raw).Transform(raw);
        return ml.Transforms.CustomMapping<Counter, GrayPixels>((input, output) =>
        {
            if (onWorker is not null) onWorker[input.Index] = Thread.CurrentThread.Name?.StartsWith("ws-read-", StringComparison.Ordinal) == true;
            if (input.Index % 7 == 0) Thread.Sleep(3);
            output.Pixels = Enumerable.Repeat((float)(input.Index % 251), 36).ToArray();
        }, contractName: null).Fit(keyed).Transform(keyed);
    }

    static IEnumerable<Numbered> Lazy(int count) => Enumerable.Range(0, count).Select(i => new Numbered { Index = i, Label = (i % 3).ToString() });

    static List<Numbered> Numbers(int count) => Lazy(count).ToList();

    [Fact]
    public void Row_order_holds_across_many_reorder_windows_for_a_pixel_column()
    {
        var ml = new MLContext(seed: 1);
        // 3 workers × 4 blocks of 2 rows: a window of 24 rows, 25 windows in all.
        var data = Counted(ml, Numbers(600));
        var parallel = ReadAll(data, "Pixels", 6, workers: 3, blockRows: 2);
        Assert.Equal(600, parallel.Labels.Length);
        for (int i = 0; i < 600; i++)
        {
            Assert.True(parallel.Pixels.AsSpan(i * 108, 108).IndexOfAnyExcept((byte)(i % 251)) < 0, $"Image {i} holds another row's pixels.");
            Assert.Equal(ClassOf(i), parallel.Labels[i]);
        }
        AssertSame(ReadAll(data, "Pixels", 6, workers: 1), parallel);
    }

    // MapValueToKey orders keys by first appearance: "0", "1", "2".
    static long ClassOf(int index) => index % 3;

    [Fact]
    public void Without_workers_given_small_data_reads_on_one_thread_and_data_of_unknown_size_goes_parallel_after_its_first_rows()
    {
        var ml = new MLContext(seed: 1);
        var small = new ConcurrentDictionary<int, bool>();
        ReadAll(Counted(ml, Numbers(ImageRows.ParallelFromRows - 1), small), "Pixels", 6, workers: null);
        Assert.Equal(ImageRows.ParallelFromRows - 1, small.Count);
        Assert.DoesNotContain(true, small.Values);

        if (Environment.ProcessorCount < 2) return;
        var large = new ConcurrentDictionary<int, bool>();
        int count = ImageRows.ParallelFromRows + 300;
        // A lazy sequence: ML.NET cannot tell its size.
        var read = ReadAll(Counted(ml, Lazy(count), large), "Pixels", 6, workers: null);
        Assert.Equal(Enumerable.Range(0, count).Select(ClassOf), read.Labels);
        Assert.All(Enumerable.Range(0, ImageRows.ParallelFromRows), i => Assert.False(large[i]));
        Assert.All(Enumerable.Range(ImageRows.ParallelFromRows, 300), i => Assert.True(large[i]));
        AssertSame(ReadAll(Counted(ml, Numbers(count)), "Pixels", 6, workers: 1), read);
    }

    [Fact]
    public void The_Threads_option_caps_the_reading_threads()
    {
        var ml = new MLContext(seed: 1);
        var onWorker = new ConcurrentDictionary<int, bool>();
        ReadAll(Counted(ml, Numbers(ImageRows.ParallelFromRows + 100), onWorker), "Pixels", 6, workers: null, threadCap: 1);
        Assert.Equal(ImageRows.ParallelFromRows + 100, onWorker.Count);
        Assert.DoesNotContain(true, onWorker.Values);
    }

    [Fact]
    public void The_first_unreadable_image_in_row_order_is_named_though_a_later_one_is_reached_first()
    {
        var (ml, rows, folder) = Pngs(perClass: 15);
        // With blocks of 2 on 3 threads, row 11 is the third worker's and row 36 the first worker's, which starts first.
        File.WriteAllText(Path.Combine(folder, rows[11].ImagePath), "not a PNG");
        File.WriteAllText(Path.Combine(folder, rows[36].ImagePath), "not a PNG");
        var data = TestImages.LoadKeyed(ml, rows, folder);
        foreach (int workers in new[] { 1, 3 })
        {
            var e = Assert.Throws<InvalidDataException>(() => ReadAll(data, "Image", 16, workers, blockRows: 2));
            Assert.StartsWith("Row 11: the image in column 'Image' could not be read", e.Message);
        }
    }

    [Fact]
    public void Skipped_unreadable_images_are_the_same_rows_with_the_same_reasons()
    {
        var (ml, rows, folder) = Pngs(perClass: 15);
        foreach (int bad in new[] { 0, 11, 12, 36, 44 }) File.WriteAllText(Path.Combine(folder, rows[bad].ImagePath), "not a PNG");
        var data = TestImages.LoadKeyed(ml, rows, folder);
        var one = ReadAll(data, "Image", 16, workers: 1, skip: true);
        Assert.Equal(new long[] { 0, 11, 12, 36, 44 }, one.Skipped.Select(s => s.Row));
        Assert.Equal(40, one.Labels.Length);
        Assert.Equal(45, one.RowsSeen);
        AssertSame(one, ReadAll(data, "Image", 16, workers: 3, blockRows: 2, skip: true));
    }

    sealed class KeyRow
    {
        public string Key { get; set; } = "";
    }

    [Fact]
    public void A_missing_label_names_its_row_on_several_threads()
    {
        var (ml, rows, folder) = Pngs(perClass: 15);
        rows[23].Label = "purple";
        var raw = ml.Data.LoadFromEnumerable(rows);
        var keys = ml.Data.LoadFromEnumerable(TestImages.ColourNames.Select(k => new KeyRow { Key = k }));
        var data = ml.Transforms.Conversion.MapValueToKey("Label", keyData: keys).Append(ml.Transforms.LoadImages("Image", folder, "ImagePath"))
            .Fit(raw).Transform(raw);
        var e = Assert.Throws<InvalidDataException>(() => ReadAll(data, "Image", 16, workers: 3, blockRows: 2));
        Assert.StartsWith("Row 23: the label 'Label' is missing", e.Message);
    }

    [Fact]
    public void Cancelling_stops_every_worker_promptly()
    {
        var ml = new MLContext(seed: 1);
        var calls = new ConcurrentDictionary<int, bool>();
        // Every seventh row takes 3 ms: 20,000 rows take several seconds.
        var data = Counted(ml, Numbers(20_000), calls);
        var clock = Stopwatch.StartNew();
        Assert.Throws<OperationCanceledException>(() => ReadAll(data, "Pixels", 6, workers: 3, blockRows: 4, throwIfCanceled: () =>
        {
            if (clock.ElapsedMilliseconds > 200) throw new OperationCanceledException();
        }));
        Assert.True(clock.ElapsedMilliseconds < 3000, $"Stopped after {clock.ElapsedMilliseconds} ms.");
        int read = calls.Count;
        Assert.InRange(read, 1, 19_999);
        Thread.Sleep(200);
        Assert.Equal(read, calls.Count); // no worker still runs
    }

    [Fact]
    public void Training_bytes_are_the_rounded_floats_the_scoring_chain_gives_ONNX()
    {
        var (ml, rows, folder) = Pngs(perClass: 5);
        var raw = ml.Data.LoadFromEnumerable(rows);
        var images = TestImages.LoadKeyed(ml, rows, folder);
        var bytes = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.LoadRawImageBytes("Bytes", folder, "ImagePath")).Fit(raw).Transform(raw);
        foreach (var (data, column) in new[] { (images, "Image"), (bytes, "Bytes") })
        {
            var image = ImageColumn.Inspect(data.Schema, column);
            // The fitted steps the scoring chain starts with, and their float column, which it copies into the ONNX input.
            var pixels = PixelPipeline.Build(ml, image, 16).Steps.Fit(data);
            var (view, training) = PixelPipeline.ForTraining(ml, pixels, data, image);
            Assert.Equal(PixelPipeline.BytesColumn, training);
            Assert.Equal(NumberDataViewType.Byte, ((VectorDataViewType)view.Schema[training].Type).ItemType);

            var scoring = pixels.Transform(data).GetColumn<float[]>(PixelPipeline.PixelsColumn).ToArray();
            var read = ReadAll(data, column, 16, workers: 3, blockRows: 2);
            Assert.Equal(scoring.Length, read.Labels.Length);
            var rounded = scoring.SelectMany(p => p.Select(v => (byte)MathF.Round(v))).ToArray();
            Assert.True(rounded.AsSpan().SequenceEqual(read.Pixels), $"{column}: training bytes differ from the scoring floats.");
            Assert.All(scoring, p => Assert.All(p, v => Assert.Equal(MathF.Round(v), v))); // whole numbers: nothing is lost
        }
    }
}

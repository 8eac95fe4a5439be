using MLNet.WeightSelection.MLNet;
using MLNet.WeightSelection.Training;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Training;

/// <summary>
/// Parts of a dataset share its pixels instead of copying them, pixels can be memory-mapped from a file, and the
/// reading buffer moves to a file past its spill point, removing it whatever happens.
/// </summary>
public class SharedPixelsTests
{
    [Fact]
    public void Parts_read_the_rows_they_name_without_copying_the_pixels_and_outlive_their_parent()
    {
        var data = Numbered(12, classes: 3);
        var (train, validation) = data.Split(0.25, seed: 2);
        using var subset = train.Subset(new long[] { 3, 0 });
        data.Dispose(); // parts keep the shared pixels alive

        Assert.Equal(12, train.Count + validation.Count);
        AssertRows(train, train.LabelValues.Count);
        AssertRows(validation, validation.LabelValues.Count);
        // A subset of a part maps to the part's rows, not the parent's.
        using (var rows = tensor(new long[] { 0, 1 }))
        {
            var (images, labels) = subset.Batch(rows);
            using (images) using (labels)
                Assert.Equal(new[] { FirstPixelOfTrainRow(train, 3), FirstPixelOfTrainRow(train, 0) }, images.select(1, 0).select(1, 0).select(1, 0).data<byte>().ToArray());
        }
        train.Dispose();
        validation.Dispose();
        Assert.Throws<ObjectDisposedException>(() => train.Range(0, 1));
    }

    [Fact]
    public void A_whole_dataset_range_is_a_view_and_a_parts_range_gathers()
    {
        using var data = Numbered(6, classes: 2);
        var (images, labels) = data.Range(2, 3);
        using (images) using (labels)
        {
            Assert.Equal(new long[] { 3, 3, 2, 2 }, images.shape);
            Assert.Equal(new byte[] { 2, 3, 4 }, images.select(1, 0).select(1, 0).select(1, 0).data<byte>().ToArray());
            Assert.Equal(2 * 12, images.storage_offset()); // a view into the whole dataset's pixels, not a copy
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Range(5, 2));
    }

    [Fact]
    public void A_memory_mapped_dataset_equals_the_same_pixels_in_memory()
    {
        using var tmp = new TempFolder();
        var pixels = Enumerable.Range(0, 4 * 3 * 2 * 2).Select(i => (byte)(i * 7)).ToArray();
        var labels = new long[] { 0, 1, 1, 0 };
        string path = tmp.File("pixels.u8");
        File.WriteAllBytes(path, pixels);
        bool released = false;

        using (var inMemory = ImageTensorDataset.FromPixels(pixels, labels, 2, 2))
        using (var mapped = ImageTensorDataset.FromFile(path, labels, 2, 2, released: () => released = true))
        {
            Assert.True(mapped.Images.eq(inMemory.Images).all().item<bool>());
            Assert.Equal(inMemory.LabelValues, mapped.LabelValues);
            var (a, b) = mapped.Split(0.5, seed: 1);
            a.Dispose();
            Assert.False(released);
            b.Dispose();
            Assert.False(released);
        }
        Assert.True(released);

        File.WriteAllBytes(path, pixels[..^1]);
        var e = Assert.Throws<ArgumentException>(() => ImageTensorDataset.FromFile(path, labels, 2, 2));
        Assert.Contains("holds 47 bytes", e.Message);
        Assert.Contains("need 48", e.Message);
    }

    [Fact]
    public void The_buffer_spills_to_a_file_past_its_limit_and_leaves_nothing_on_disk()
    {
        using var tmp = new TempFolder();
        var images = Enumerable.Range(0, 5).Select(i => Enumerable.Repeat((byte)(10 * i), 12).ToArray()).ToArray();
        var labels = new long[] { 0, 1, 0, 1, 0 };

        using var small = new PixelBuffer(12, spillBytes: 1000, tmp.Path);
        using var spilling = new PixelBuffer(12, spillBytes: 30, tmp.Path); // two images fit; the third moves all to a file
        foreach (var image in images) { small.Append(image); spilling.Append(image); }
        Assert.False(small.OnDisk);
        Assert.True(spilling.OnDisk);
        Assert.Single(Directory.GetFiles(tmp.Path, PixelBuffer.FilePrefix + "*.u8"));
        Assert.True(spilling.AnyAboveOne);

        using var fromMemory = small.ToDataset(labels, 2, 2);
        using var fromFile = spilling.ToDataset(labels, 2, 2);
        Assert.True(fromFile.Images.eq(fromMemory.Images).all().item<bool>());
        Assert.Empty(Directory.GetFiles(tmp.Path)); // mapped, then unlinked at once
        Assert.Throws<InvalidOperationException>(() => spilling.ToDataset(labels, 2, 2));
    }

    [Fact]
    public void A_buffer_disposed_before_its_dataset_removes_its_file_and_stale_files_of_dead_processes_go()
    {
        using var tmp = new TempFolder();
        string stale = Path.Combine(tmp.Path, $"{PixelBuffer.FilePrefix}{int.MaxValue - 1}-0123.u8");
        string live = Path.Combine(tmp.Path, $"{PixelBuffer.FilePrefix}{Environment.ProcessId}-4567.u8");
        File.WriteAllBytes(stale, new byte[3]);
        File.WriteAllBytes(live, new byte[3]);

        using (var buffer = new PixelBuffer(3, spillBytes: 0, tmp.Path))
        {
            buffer.Append(new byte[] { 0, 1, 0 });
            Assert.True(buffer.OnDisk);
            Assert.False(buffer.AnyAboveOne);
            Assert.False(File.Exists(stale)); // removed when the buffer made its own file
            Assert.True(File.Exists(live));
        }
        Assert.Equal(new[] { live }, Directory.GetFiles(tmp.Path));
    }

    [Theory]
    [InlineData(1)]       // the first write into the file fails
    [InlineData(1 << 16)] // the writes are buffered; the flush when the dataset is made fails
    public void A_full_disk_fails_with_the_file_named_and_leaves_nothing(int bufferBytes)
    {
        if (!File.Exists("/dev/full")) return; // Linux's always-full device: writes fail with ENOSPC, as on a full disk
        using var tmp = new TempFolder();
        string? created = null;
        FileStream FullDisk(string path)
        {
            created = path;
            File.WriteAllBytes(path, Array.Empty<byte>()); // the name exists, as a real file's would
            return new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferBytes);
        }

        var buffer = new PixelBuffer(12, spillBytes: 24, tmp.Path, FullDisk);
        var error = Assert.Throws<IOException>(() =>
        {
            for (int i = 0; i < 5; i++) buffer.Append(Enumerable.Repeat((byte)(i + 2), 12).ToArray());
            buffer.ToDataset(new long[] { 0, 1, 0, 1, 0 }, 2, 2).Dispose();
        });
        Assert.NotNull(created);
        Assert.Contains(created!, error.Message);
        Assert.Contains("It was removed", error.Message);
        Assert.Empty(Directory.GetFiles(tmp.Path));
        buffer.Dispose(); // after the failure, disposing again is harmless
    }

    static ImageTensorDataset Numbered(int count, int classes)
    {
        // Image i is filled with the value i, so a row's pixels tell which row it is.
        var pixels = Enumerable.Range(0, count).SelectMany(i => Enumerable.Repeat((byte)i, 3 * 2 * 2)).ToArray();
        var labels = Enumerable.Range(0, count).Select(i => (long)(i % classes)).ToArray();
        return ImageTensorDataset.FromPixels(pixels, labels, 2, classes);
    }

    static byte FirstPixelOfTrainRow(ImageTensorDataset part, long row)
    {
        var (images, labels) = part.Range(row, 1);
        using (images) using (labels) return images.data<byte>()[0];
    }

    // Every row of a part holds an image whose value is its parent row and whose label is that row's class.
    static void AssertRows(ImageTensorDataset part, int count)
    {
        using var all = arange(count, dtype: ScalarType.Int64);
        var (images, labels) = part.Batch(all);
        using (images) using (labels)
        {
            var values = images.select(1, 0).select(1, 0).select(1, 0).data<byte>().ToArray();
            var classes = labels.data<long>().ToArray();
            Assert.Equal(values.Length, values.Distinct().Count());
            for (int i = 0; i < count; i++)
            {
                Assert.Equal(values[i] % 3, classes[i]);
                Assert.Equal(part.LabelValues[i], classes[i]);
            }
            Assert.True(part.Images.eq(images).all().item<bool>());
        }
    }
}

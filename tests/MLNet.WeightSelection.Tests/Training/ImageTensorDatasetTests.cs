using MLNet.WeightSelection.Training;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Training;

public class ImageTensorDatasetTests
{
    [Fact]
    public void ExposesCountsAndRejectsBadTensorsClearly()
    {
        using var data = TrainingData.Separable(10, size: 8, classes: 3);
        Assert.Equal(10, data.Count);
        Assert.Equal(3, data.NumClasses);
        Assert.Equal(8, data.ImageSize);

        using var floats = zeros(2, 3, 4, 4);
        using var labels2 = zeros(new long[] { 2 }, ScalarType.Int64);
        Assert.Contains("uint8", Assert.Throws<ArgumentException>(() => new ImageTensorDataset(floats, labels2, 2)).Message);

        using var gray = zeros(new long[] { 2, 1, 4, 4 }, ScalarType.Byte);
        Assert.Contains("[N, 3, H, W]", Assert.Throws<ArgumentException>(() => new ImageTensorDataset(gray, labels2, 2)).Message);

        using var wide = zeros(new long[] { 2, 3, 4, 5 }, ScalarType.Byte);
        Assert.Contains("square", Assert.Throws<ArgumentException>(() => new ImageTensorDataset(wide, labels2, 2)).Message);

        using var images = zeros(new long[] { 2, 3, 4, 4 }, ScalarType.Byte);
        using var labels3 = zeros(new long[] { 3 }, ScalarType.Int64);
        Assert.Contains("one per image", Assert.Throws<ArgumentException>(() => new ImageTensorDataset(images, labels3, 2)).Message);

        using var intLabels = zeros(new long[] { 2 }, ScalarType.Int32);
        Assert.Contains("int64", Assert.Throws<ArgumentException>(() => new ImageTensorDataset(images, intLabels, 2)).Message);

        using var outOfRange = tensor(new long[] { 0, 5 });
        Assert.Contains("row 1 is 5", Assert.Throws<ArgumentException>(() => new ImageTensorDataset(images, outOfRange, 2)).Message);

        using var empty = zeros(new long[] { 0, 3, 4, 4 }, ScalarType.Byte);
        using var noLabels = zeros(new long[] { 0 }, ScalarType.Int64);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => new ImageTensorDataset(empty, noLabels, 2)).Message);

        Assert.Contains("at least 2 classes", Assert.Throws<ArgumentException>(() => new ImageTensorDataset(images, labels2, 1)).Message);
    }

    [Fact]
    public void SplitIsStratifiedDisjointAndSeeded()
    {
        using var data = TrainingData.Separable(40, size: 4, classes: 4, seed: 1); // 10 images per class
        var (train, validation) = data.Split(0.2, seed: 5);
        using (train)
        using (validation)
        {
            Assert.Equal(32, train.Count);
            Assert.Equal(8, validation.Count);
            for (int c = 0; c < 4; c++) Assert.Equal(2, validation.LabelValues.Count(l => l == c));

            // Every image lands in exactly one part: compare the images' bytes as a multiset.
            static IEnumerable<string> Rows(ImageTensorDataset d) =>
                Enumerable.Range(0, d.Count).Select(i => Convert.ToBase64String(d.Images[i].data<byte>().ToArray()) + d.LabelValues[i]);
            var all = Rows(data).OrderBy(s => s, StringComparer.Ordinal);
            Assert.Equal(all, Rows(train).Concat(Rows(validation)).OrderBy(s => s, StringComparer.Ordinal));

            var (train2, validation2) = data.Split(0.2, seed: 5);
            using (train2)
            using (validation2)
                Assert.True(validation.Images.eq(validation2.Images).all().item<bool>());
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Split(1.0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Split(0, 1));
    }

    [Fact]
    public void FromPixelsReadsPlanarRgbAndChecksTheLength()
    {
        // Two 1×1 images: (R, G, B) = (1, 2, 3) and (4, 5, 6).
        using var data = ImageTensorDataset.FromPixels(new byte[] { 1, 2, 3, 4, 5, 6 }, new long[] { 0, 1 }, imageSize: 1, numClasses: 2);
        Assert.Equal(new long[] { 2, 3, 1, 1 }, data.Images.shape);
        Assert.Equal(new byte[] { 4, 5, 6 }, data.Images[1].data<byte>().ToArray());
        var error = Assert.Throws<ArgumentException>(() => ImageTensorDataset.FromPixels(new byte[5], new long[] { 0, 1 }, 1, 2));
        Assert.Contains("6 bytes; got 5", error.Message);
    }
}

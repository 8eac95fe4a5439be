using ImageClassification;
using Xunit;

namespace MLNet.WeightSelection.Tests.Samples;

public class ImageFolderTests
{
    [Fact]
    public void Train_and_test_folders_are_read_with_classes_in_ordinal_order()
    {
        string root = SampleFixtures.ImageFolder(trainPerClass: 4, testPerClass: 2);

        var folder = ImageFolder.Load(root, 0.2, seed: 1);

        Assert.Equal(SampleFixtures.Classes, folder.Classes);
        Assert.False(folder.TestWasSplit);
        Assert.Equal(12, folder.Train.Count);
        Assert.Equal(6, folder.Test.Count);
        Assert.All(folder.Train, r => Assert.Equal(Path.Combine(root, "train", r.Label, Path.GetFileName(r.ImagePath)), r.ImagePath));
        Assert.All(folder.Test, r => Assert.StartsWith(Path.Combine(root, "test", r.Label), r.ImagePath));
    }

    [Fact]
    public void Without_test_folder_a_stratified_seeded_test_split_is_taken()
    {
        string root = SampleFixtures.ImageFolder(trainPerClass: 10, withTest: false);

        var a = ImageFolder.Load(root, 0.2, seed: 5);
        var b = ImageFolder.Load(root, 0.2, seed: 5);
        var c = ImageFolder.Load(root, 0.2, seed: 6);

        Assert.True(a.TestWasSplit);
        Assert.Equal(24, a.Train.Count);
        Assert.Equal(6, a.Test.Count);
        Assert.All(a.Test.GroupBy(r => r.Label), g => Assert.Equal(2, g.Count()));
        Assert.Empty(a.Train.Select(r => r.ImagePath).Intersect(a.Test.Select(r => r.ImagePath)));
        Assert.Equal(30, a.Train.Concat(a.Test).Select(r => r.ImagePath).Distinct().Count());
        Assert.Equal(a.Test.Select(r => r.ImagePath), b.Test.Select(r => r.ImagePath));
        Assert.NotEqual(a.Test.Select(r => r.ImagePath).Order(), c.Test.Select(r => r.ImagePath).Order());
    }

    [Fact]
    public void A_folder_of_class_folders_alone_is_split_too()
    {
        string root = TestPaths.NewTempDirectory();
        SampleFixtures.WriteSplit(root, perClass: 5, size: 8, seed: 1);

        var folder = ImageFolder.Load(root, 0.2, seed: 1);

        Assert.True(folder.TestWasSplit);
        Assert.Equal(12, folder.Train.Count);
        Assert.Equal(3, folder.Test.Count);
    }

    [Fact]
    public void TakePerClass_keeps_the_first_images_of_every_class_in_order()
    {
        using var tmp = new TempFolder();
        SampleFixtures.WriteSplit(Path.Combine(tmp.Path, "train"), perClass: 5, size: 8, seed: 1);
        SampleFixtures.WriteSplit(Path.Combine(tmp.Path, "test"), perClass: 3, size: 8, seed: 2);
        var folder = ImageFolder.Load(tmp.Path, 0.2, seed: 1);

        var cut = folder.TakePerClass(trainPerClass: 2, testPerClass: 1);

        Assert.Equal(folder.Classes, cut.Classes);
        Assert.Equal(folder.Root, cut.Root);
        Assert.Equal(
            folder.Train.GroupBy(r => r.Label).SelectMany(g => g.Take(2)).Select(r => r.ImagePath),
            cut.Train.Select(r => r.ImagePath));
        Assert.Equal(
            folder.Test.GroupBy(r => r.Label).SelectMany(g => g.Take(1)).Select(r => r.ImagePath),
            cut.Test.Select(r => r.ImagePath));
        Assert.Equal(6, cut.Train.Count);
        Assert.Equal(3, cut.Test.Count);
        Assert.Equal(15, folder.Train.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => folder.TakePerClass(0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => folder.TakePerClass(1, 0));
    }

    [Fact]
    public void Bad_layouts_name_the_folder_and_what_is_expected()
    {
        Assert.Contains("does not exist", Assert.Throws<DirectoryNotFoundException>(() => ImageFolder.Load("/nonexistent/ws-data", 0.2, 1)).Message);

        string empty = TestPaths.NewTempDirectory();
        var e = Assert.Throws<InvalidDataException>(() => ImageFolder.Load(empty, 0.2, 1));
        Assert.Contains("no class folders", e.Message);

        string emptyClass = SampleFixtures.ImageFolder(trainPerClass: 2);
        Directory.CreateDirectory(Path.Combine(emptyClass, "train", "zebra"));
        e = Assert.Throws<InvalidDataException>(() => ImageFolder.Load(emptyClass, 0.2, 1));
        Assert.Contains(Path.Combine(emptyClass, "train", "zebra"), e.Message);

        string oneClass = TestPaths.NewTempDirectory();
        SampleFixtures.WriteSplit(Path.Combine(oneClass, "train"), perClass: 2, size: 8, seed: 1);
        foreach (var c in SampleFixtures.Classes.Skip(1)) Directory.Delete(Path.Combine(oneClass, "train", c), recursive: true);
        Assert.Contains("at least 2", Assert.Throws<InvalidDataException>(() => ImageFolder.Load(oneClass, 0.2, 1)).Message);

        string extraTestClass = SampleFixtures.ImageFolder(trainPerClass: 2);
        SampleFixtures.WriteSplit(Path.Combine(extraTestClass, "test-extra"), perClass: 1, size: 8, seed: 1);
        Directory.Move(Path.Combine(extraTestClass, "test-extra", "circle"), Path.Combine(extraTestClass, "test", "zebra"));
        Assert.Contains("zebra", Assert.Throws<InvalidDataException>(() => ImageFolder.Load(extraTestClass, 0.2, 1)).Message);

        string tooFew = TestPaths.NewTempDirectory();
        SampleFixtures.WriteSplit(tooFew, perClass: 2, size: 8, seed: 1);
        Assert.Contains("too few to split", Assert.Throws<InvalidDataException>(() => ImageFolder.Load(tooFew, 0.2, 1)).Message);
    }
}

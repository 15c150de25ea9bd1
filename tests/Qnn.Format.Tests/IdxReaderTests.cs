using Qnn.Datasets;

namespace Qnn.Format.Tests;

/// <summary>The IDX reader and the folder loader on good, gzip and broken files; every error names the file.</summary>
public class IdxReaderTests
{
    private static readonly byte[] Pixels = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)(i * 7)).ToArray();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Good_files_plain_or_gzip_read_back_exactly(bool gzip)
    {
        using var tmp = new TempFolder();
        byte[] bytes = IdxFiles.Bytes([2, 3, 4], Pixels);
        File.WriteAllBytes(tmp.File("img"), gzip ? IdxFiles.Gzip(bytes) : bytes);
        var (count, h, w, c, data) = IdxReader.ReadImages(tmp.File("img"));
        Assert.Equal((2, 3, 4, 1), (count, h, w, c));
        Assert.Equal(Pixels, data);
    }

    [Fact]
    public void Rank_4_images_have_channels()
    {
        using var tmp = new TempFolder();
        File.WriteAllBytes(tmp.File("img"), IdxFiles.Bytes([2, 2, 2, 3], Pixels));
        Assert.Equal(3, IdxReader.ReadImages(tmp.File("img")).Channels);
    }

    public static TheoryData<string, byte[], string> Broken()
    {
        byte[] good = IdxFiles.Bytes([2, 3, 4], Pixels);
        byte[] badMagic = (byte[])good.Clone(); badMagic[0] = 0x1F; badMagic[1] = 0x00;
        byte[] badType = (byte[])good.Clone(); badType[2] = 0x0D;
        byte[] corruptGzip = IdxFiles.Gzip(good); corruptGzip[10] = 0xFF;   // deflate block type 3, which does not exist
        byte[] badGzipCrc = IdxFiles.Gzip(good); badGzipCrc[^6] ^= 0xFF;   // the gzip trailer's CRC-32 of the data
        return new()
        {
            { "bad magic", badMagic, "bad magic number" },
            { "not bytes", badType, "is not unsigned byte" },
            { "rank 2 images", IdxFiles.Bytes([4, 6], Pixels), "has rank 3 or 4, this one has rank 2" },
            { "truncated plain", good[..^5], "the header's dimensions 2x3x4 need 40" },
            { "truncated header", good[..9], "truncated in the dimension 1" },
            { "too long plain", [.. good, 0], "the header's dimensions 2x3x4 need 40" },
            { "truncated gzip", IdxFiles.Gzip(good[..^5]), "truncated in the data" },
            { "too long gzip", IdxFiles.Gzip([.. good, 0]), "data continues past the 24 bytes" },
            { "corrupt gzip", corruptGzip, "corrupt gzip data" },
            { "gzip CRC mismatch", badGzipCrc, "corrupt gzip data" },
            { "zero dimension", IdxFiles.Bytes([0, 3, 4], []), "dimension 0 is 0" },
            { "hostile dimensions", IdxFiles.Gzip(IdxFiles.Bytes([65536, 65536, 2], [])), "exceed the 1 GiB limit" },
            { "huge claim, little data", IdxFiles.Gzip(IdxFiles.Bytes([1000, 1000, 1000], Pixels)), "truncated in the data" },
        };
    }

    [Theory]
    [MemberData(nameof(Broken))]
    public void Broken_image_files_are_rejected_with_the_file_named(string what, byte[] bytes, string message)
    {
        using var tmp = new TempFolder();
        string path = tmp.File(what.Replace(' ', '-'));
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<IdxFormatException>(() => IdxReader.ReadImages(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.True(e.Message.Contains(message, StringComparison.Ordinal), $"{what}: \"{e.Message}\" does not say \"{message}\"");
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var e = Assert.Throws<IdxFormatException>(() => IdxReader.Read("/nonexistent/x-idx1-ubyte"));
        Assert.Equal("/nonexistent/x-idx1-ubyte: no such file", e.Message);
    }

    [Fact]
    public void Labels_must_have_rank_1_and_lie_below_the_class_count()
    {
        using var tmp = new TempFolder();
        File.WriteAllBytes(tmp.File("labels"), IdxFiles.Bytes([4], [0, 9, 3, 10]));
        var e = Assert.Throws<IdxFormatException>(() => IdxReader.ReadLabels(tmp.File("labels"), 10));
        Assert.Equal($"{tmp.File("labels")}: label 10 of sample 3 is not below 10", e.Message);
        Assert.Equal([0, 9, 3, 10], IdxReader.ReadLabels(tmp.File("labels")));
        File.WriteAllBytes(tmp.File("rank2"), IdxFiles.Bytes([2, 2], [0, 1, 1, 0]));
        Assert.Contains("a label file has rank 1", Assert.Throws<IdxFormatException>(() => IdxReader.ReadLabels(tmp.File("rank2"))).Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_folder_of_four_files_loads_as_a_split(bool gzip)
    {
        using var tmp = new TempFolder();
        IdxFiles.WriteFolder(tmp.File("set"), 5, 3, [0, 1, 2, 2, 1], [2, 0], gzip);
        var split = DatasetLoader.Load("idx:" + tmp.File("set"));
        Assert.Equal((5, 2, 3, 5, 3), (split.Train.Count, split.Test.Count, split.Train.ClassCount, split.Test.Height, split.Test.Width));
        Assert.Equal(3, split.Test.ClassCount);
        Assert.Equal(15, split.Train.Image(4).Length);
    }

    [Fact]
    public void A_label_count_that_differs_from_the_image_count_is_named()
    {
        using var tmp = new TempFolder();
        IdxFiles.WriteFolder(tmp.File("set"), 2, 2, [0, 1, 1], [0, 1]);
        File.WriteAllBytes(Path.Combine(tmp.File("set"), "t10k-labels-idx1-ubyte"), IdxFiles.Bytes([3], [0, 1, 1]));
        var e = Assert.Throws<IdxFormatException>(() => DatasetLoader.Load("idx:" + tmp.File("set")));
        Assert.StartsWith(Path.Combine(tmp.File("set"), "t10k-labels-idx1-ubyte") + ": 3 labels for the 2 images of ", e.Message);
    }

    [Fact]
    public void A_test_label_outside_the_training_classes_is_named()
    {
        using var tmp = new TempFolder();
        IdxFiles.WriteFolder(tmp.File("set"), 2, 2, [0, 1, 2], [1, 5]);
        var e = Assert.Throws<IdxFormatException>(() => DatasetLoader.Load("idx:" + tmp.File("set")));
        Assert.Contains("t10k-labels-idx1-ubyte: label 5 of sample 1 is not among the 3 classes", e.Message);
    }

    [Fact]
    public void Missing_files_and_folders_are_named()
    {
        using var tmp = new TempFolder();
        IdxFiles.WriteFolder(tmp.File("set"), 2, 2, [0, 1], [0, 1]);
        File.Delete(Path.Combine(tmp.File("set"), "train-images-idx3-ubyte"));
        Assert.Contains("train-images-idx3-ubyte: missing", Assert.Throws<IdxFormatException>(() => DatasetLoader.Load("idx:" + tmp.File("set"))).Message);
        Assert.Contains("no such folder", Assert.Throws<IdxFormatException>(() => DatasetLoader.Load("idx:" + tmp.File("nope"))).Message);
        Assert.Contains("unknown data set", Assert.Throws<IdxFormatException>(() => DatasetLoader.Load("cifar")).Message);
    }

    [Fact]
    public void The_cached_mnist_when_present_has_the_known_shape()
    {
        // CI fetches MNIST before the tests (.ci/run), so this runs there; on a machine without the cache it checks nothing.
        if (DatasetLoader.MnistCacheProblem(DataCache.MnistDirectory) is not null) return;
        var split = DatasetLoader.Load("mnist");
        Assert.Equal((60000, 10000, 28, 28, 10), (split.Train.Count, split.Test.Count, split.Train.Height, split.Train.Width, split.Train.ClassCount));
    }
}

using System.Buffers.Binary;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Qnn.Datasets;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace Qnn.Format.Tests;

/// <summary>
/// The data sources of issue 14 on files of their real formats, written here: CIFAR-10/100 records, SVHN's MAT v5
/// files (plain and miCOMPRESSED), image folders of colour and grey PNG/JPEG/BMP/PGM; and broken files of each, whose
/// error is one line naming the file.
/// </summary>
public class DataSourceTests
{
    // ---- CIFAR ----

    /// <summary>CIFAR records: label bytes, then the red, green and blue 32 × 32 planes; pixel (p, c) of image i is (i·7 + p·3 + c) mod 256.</summary>
    private static byte[] CifarRecords(byte[][] labels)
    {
        var s = new MemoryStream();
        for (int i = 0; i < labels.Length; i++)
        {
            s.Write(labels[i]);
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < 1024; p++) s.WriteByte(Pixel(i, p, c));
        }
        return s.ToArray();
    }

    private static byte Pixel(int i, int p, int c) => (byte)((i * 7 + p * 3 + c * 101) % 256);

    private static void WriteCifar10(string dir, int perBatch)
    {
        Directory.CreateDirectory(dir);
        int n = 0;
        foreach (string f in CifarReader.Cifar10Train.Append(CifarReader.Cifar10Test))
        {
            var labels = Enumerable.Range(0, perBatch).Select(i => new[] { (byte)((n + i) % 10) }).ToArray();
            File.WriteAllBytes(Path.Combine(dir, f), CifarRecords(labels));
            n += perBatch;
        }
        File.WriteAllText(Path.Combine(dir, CifarReader.Cifar10Meta), "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
    }

    [Fact]
    public void Cifar10_batches_load_channel_planar_records_as_interleaved_rgb_with_the_class_names()
    {
        using var tmp = new TempFolder();
        WriteCifar10(tmp.File("cifar-10-batches-bin"), 3);
        var split = DatasetLoader.Load("cifar10:" + tmp.Path);   // the archive's subfolder is found
        Assert.Equal((15, 3, 32, 32, 3, 10), (split.Train.Count, split.Test.Count, split.Train.Height, split.Train.Width, split.Train.Channels, split.Train.ClassCount));
        Assert.Equal("truck", split.Test.ClassNames![9]);
        Assert.Equal(new byte[] { 0, 1, 2, 3, 4 }, split.Train.Labels[..5]);
        var image = split.Train.Image(4);
        for (int p = 0; p < 1024; p += 97)
            for (int c = 0; c < 3; c++) Assert.Equal(Pixel(1, p, c), image[p * 3 + c]);   // record 1 of data_batch_2
    }

    [Fact]
    public void Cifar100_uses_the_fine_label()
    {
        using var tmp = new TempFolder();
        File.WriteAllBytes(tmp.File("train.bin"), CifarRecords([[3, 77], [19, 99]]));
        File.WriteAllBytes(tmp.File("test.bin"), CifarRecords([[0, 5]]));
        var split = DatasetLoader.Load("cifar100:" + tmp.Path);
        Assert.Equal(new byte[] { 77, 99 }, split.Train.Labels);
        Assert.Equal(100, split.Train.ClassCount);
        Assert.Null(split.Train.ClassNames);
    }

    [Fact]
    public void Broken_cifar_files_give_one_line_naming_the_file()
    {
        using var tmp = new TempFolder();
        WriteCifar10(tmp.Path, 2);
        string batch = tmp.File("data_batch_3.bin");
        File.WriteAllBytes(batch, File.ReadAllBytes(batch)[..^1]);
        var e = Assert.Throws<DatasetFormatException>(() => DatasetLoader.Load("cifar10:" + tmp.Path));
        Assert.Equal($"{batch}: 6145 bytes is not a whole number of 3073-byte records (1 label byte + 3072 pixels)", e.Message);

        WriteCifar10(tmp.Path, 2);
        var bad = File.ReadAllBytes(batch);
        bad[3073] = 10;
        File.WriteAllBytes(batch, bad);
        Assert.Equal($"{batch}: label 10 of record 1 is not below 10", Assert.Throws<DatasetFormatException>(() => DatasetLoader.Load("cifar10:" + tmp.Path)).Message);

        WriteCifar10(tmp.Path, 2);
        File.Delete(tmp.File("test_batch.bin"));
        Assert.StartsWith($"{tmp.File("test_batch.bin")}: missing", Assert.Throws<DatasetFormatException>(() => DatasetLoader.Load("cifar10:" + tmp.Path)).Message);

        WriteCifar10(tmp.Path, 2);
        File.WriteAllText(tmp.File("batches.meta.txt"), "a\nb\n");
        Assert.Equal($"{tmp.File("batches.meta.txt")}: 2 class names, CIFAR has 10", Assert.Throws<DatasetFormatException>(() => DatasetLoader.Load("cifar10:" + tmp.Path)).Message);
        foreach (var m in new[] { "idx", "folder", "svhn" }) Assert.DoesNotContain('\n', Assert.ThrowsAny<IOException>(() => DatasetLoader.Load($"{m}:{tmp.File("none")}")).Message);
    }

    [Fact]
    public void The_cifar10_archive_is_imported_after_its_md5_and_a_wrong_one_is_refused()
    {
        using var tmp = new TempFolder();
        var files = CifarReader.Cifar10Train.Append(CifarReader.Cifar10Test).ToDictionary(f => f, _ => 2L * 3073);
        string archive = tmp.File(CifarArchive.FileName);
        using (var fs = File.Create(archive))
        using (var gz = new GZipStream(fs, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gz))
        {
            foreach (string f in files.Keys)
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "cifar-10-batches-bin/" + f) { DataStream = new MemoryStream(CifarRecords([[1], [2]])) });
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "cifar-10-batches-bin/batches.meta.txt") { DataStream = new MemoryStream("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"u8.ToArray()) });
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "cifar-10-batches-bin/readme.html") { DataStream = new MemoryStream([1, 2, 3]) });
        }
        string md5 = Convert.ToHexStringLower(MD5.HashData(File.ReadAllBytes(archive)));
        var e = Assert.Throws<DatasetFormatException>(() => CifarArchive.Import(archive, tmp.File("cache"), files: files));
        Assert.Equal($"{archive}: MD5 {md5}, not the published {CifarArchive.PublishedMd5} of cifar-10-binary.tar.gz", e.Message);
        Assert.Equal(7, CifarArchive.Import(archive, tmp.File("cache"), md5, files).Count);
        Assert.Equal(10, DatasetLoader.Load("cifar10:" + tmp.File("cache")).Train.Count);
    }

    // ---- SVHN: MAT v5 ----

    /// <summary>A MAT v5 file as MATLAB writes it: the 128-byte header, then one element per array, each plain or miCOMPRESSED.</summary>
    private static byte[] MatFileBytes(params (byte[] Matrix, bool Compressed)[] elements)
    {
        var s = new MemoryStream();
        var text = Encoding.ASCII.GetBytes("MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: Tue Dec  1 00:00:00 2026".PadRight(116));
        s.Write(text);
        s.Write(new byte[8]);
        s.Write([0x00, 0x01, (byte)'I', (byte)'M']);
        foreach (var (matrix, compressed) in elements)
        {
            if (!compressed) { s.Write(matrix); continue; }
            var z = new MemoryStream();
            using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(matrix);
            s.Write(Tag(MatFile.MiCompressed, (int)z.Length));
            s.Write(z.ToArray());
        }
        return s.ToArray();
    }

    private static byte[] Tag(int type, int bytes)
    {
        var t = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(t, type);
        BinaryPrimitives.WriteInt32LittleEndian(t.AsSpan(4), bytes);
        return t;
    }

    private static void Padded(MemoryStream s, int type, byte[] data)
    {
        if (data.Length <= 4 && type == MatFile.MiInt8)
        {   // the small data element format, as MATLAB writes short names such as "X"
            var t = new byte[8];
            BinaryPrimitives.WriteInt32LittleEndian(t, (data.Length << 16) | type);
            data.CopyTo(t, 4);
            s.Write(t);
            return;
        }
        s.Write(Tag(type, data.Length));
        s.Write(data);
        s.Write(new byte[(8 - data.Length % 8) % 8]);
    }

    /// <summary>One miMATRIX element: flags, dims, name, real part stored as <paramref name="type"/>.</summary>
    private static byte[] Matrix(string name, int cls, int[] dims, int type, byte[] real)
    {
        var body = new MemoryStream();
        var flags = new byte[8];
        flags[0] = (byte)cls;
        Padded(body, MatFile.MiUInt32, flags);
        Padded(body, MatFile.MiInt32, dims.SelectMany(d => BitConverter.GetBytes(d)).ToArray());
        Padded(body, MatFile.MiInt8, Encoding.ASCII.GetBytes(name));
        Padded(body, type, real);
        return [.. Tag(MatFile.MiMatrix, (int)body.Length), .. body.ToArray()];
    }

    /// <summary>SVHN's arrays: X 32 × 32 × 3 × N uint8 (column-major, X(r, c, ch, i) = (r + 2c + 3ch + 5i) mod 256) and y N × 1.</summary>
    private static byte[] SvhnFile(byte[] labels, bool compressed, bool yAsDouble)
    {
        int n = labels.Length;
        var x = new byte[32 * 32 * 3 * n];
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < 3; ch++)
                for (int c = 0; c < 32; c++)
                    for (int r = 0; r < 32; r++) x[r + 32 * c + 1024 * ch + 3072 * i] = SvhnPixel(r, c, ch, i);
        byte[] y = yAsDouble ? labels.SelectMany(l => BitConverter.GetBytes((double)l)).ToArray() : labels;
        return MatFileBytes(
            (Matrix("X", MatFile.MxUInt8Class, [32, 32, 3, n], MatFile.MiUInt8, x), compressed),
            (Matrix("y", MatFile.MxDoubleClass, [n, 1], yAsDouble ? MatFile.MiDouble : MatFile.MiUInt8, y), compressed));
    }

    private static byte SvhnPixel(int r, int c, int ch, int i) => (byte)((r + 2 * c + 3 * ch + 5 * i) % 256);

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void Svhn_mat_files_load_with_label_10_as_digit_0(bool compressed, bool yAsDouble)
    {
        using var tmp = new TempFolder();
        File.WriteAllBytes(tmp.File(SvhnReader.Train), SvhnFile([1, 10, 5, 9], compressed, yAsDouble));
        File.WriteAllBytes(tmp.File(SvhnReader.Test), SvhnFile([10, 2], compressed, yAsDouble));
        var split = DatasetLoader.Load("svhn:" + tmp.Path);
        Assert.Equal(new byte[] { 1, 0, 5, 9 }, split.Train.Labels);
        Assert.Equal(new byte[] { 0, 2 }, split.Test.Labels);
        Assert.Equal((32, 32, 3, 10), (split.Train.Height, split.Train.Width, split.Train.Channels, split.Train.ClassCount));
        var image = split.Train.Image(3);
        foreach (var (r, c, ch) in new[] { (0, 0, 0), (5, 17, 1), (31, 30, 2) })
            Assert.Equal(SvhnPixel(r, c, ch, 3), image[(r * 32 + c) * 3 + ch]);
    }

    [Fact]
    public void Broken_mat_files_give_one_line_naming_the_file()
    {
        using var tmp = new TempFolder();
        string f = tmp.File(SvhnReader.Train);
        File.WriteAllBytes(tmp.File(SvhnReader.Test), SvhnFile([1], false, true));
        string Error(byte[] bytes)
        {
            File.WriteAllBytes(f, bytes);
            string message = Assert.ThrowsAny<IOException>(() => DatasetLoader.Load("svhn:" + tmp.Path)).Message;
            Assert.StartsWith(f + ": ", message);
            Assert.DoesNotContain('\n', message);
            return message;
        }
        var good = SvhnFile([1, 2], false, true);
        Assert.Contains("shorter than a MAT-file's 128-byte header", Error(good[..100]));
        var text = (byte[])good.Clone();
        text[0] = (byte)'X';
        Assert.Contains("not a MATLAB 5 MAT-file", Error(text));
        var v73 = (byte[])good.Clone();
        v73[125] = 2;
        Assert.Contains("version 0x0200", Error(v73));
        // A tag that declares more bytes than remain is refused before anything is allocated.
        var huge = (byte[])good.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(huge.AsSpan(132), int.MaxValue);
        Assert.Contains("declares 2147483647 bytes", Error(huge));
        Assert.Contains("stray bytes", Error([.. good, 1, 2, 3]));
        var compressed = SvhnFile([1, 2], true, true);
        var corrupt = (byte[])compressed.Clone();
        for (int i = 150; i < 170; i++) corrupt[i] ^= 0x5A;
        Assert.Contains("compressed element at offset 128", Error(corrupt));
        // X of the wrong shape, y with a label outside 1-10, a missing array.
        Assert.Contains("X is 32x32x1x2", Error(MatFileBytes((Matrix("X", MatFile.MxUInt8Class, [32, 32, 1, 2], MatFile.MiUInt8, new byte[2048]), false),
            (Matrix("y", MatFile.MxDoubleClass, [2, 1], MatFile.MiUInt8, [1, 2]), false))));
        Assert.Contains("label 11 of image 1 is not 1-10", Error(SvhnFile([1, 11], false, true)));
        Assert.Contains("no array named y", Error(MatFileBytes((Matrix("X", MatFile.MxUInt8Class, [32, 32, 3, 1], MatFile.MiUInt8, new byte[3072]), true))));
        // A real part whose size disagrees with the dimensions.
        Assert.Contains("real part of 3071 bytes", Error(MatFileBytes((Matrix("X", MatFile.MxUInt8Class, [32, 32, 3, 1], MatFile.MiUInt8, new byte[3071]), false))));
    }

    // ---- Image folders ----

    private static void Save(Image image, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        image.Save(path);
    }

    /// <summary>Two classes: red-ish and blue-ish, 6 images each, in PNG, JPEG and BMP; sizes 8×6 except one 10×10.</summary>
    private static void WriteColourFolder(string root)
    {
        for (int i = 0; i < 6; i++)
        {
            using var red = new Image<Rgb24>(i == 5 ? 10 : 8, i == 5 ? 10 : 6, new Rgb24((byte)(200 + i), 20, 30));
            Save(red, Path.Combine(root, "red", $"r{i}.{(i % 2 == 0 ? "png" : "jpg")}"));
            using var blue = new Image<Rgb24>(8, 6, new Rgb24(10, 20, (byte)(220 + i)));
            Save(blue, Path.Combine(root, "blue", $"b{i}.{(i % 3 == 0 ? "bmp" : "png")}"));
        }
        File.WriteAllText(Path.Combine(root, "red", "notes.txt"), "not an image: ignored");
    }

    /// <summary>
    /// The folder caches do not grow without end: entries unused for 30 days go, then the least recently used beyond
    /// the budget; files not named as cache entries (or links) are never touched, and a cache hit renews an entry.
    /// </summary>
    [Fact]
    public void Folder_caches_unused_for_30_days_or_beyond_the_budget_are_pruned_and_nothing_else()
    {
        using var tmp = new TempFolder();
        string folders = tmp.File("folders");
        Directory.CreateDirectory(folders);
        var now = new DateTime(2026, 12, 2, 0, 0, 0, DateTimeKind.Utc);
        string Entry(string key, int bytes, int daysAgo)
        {
            string path = Path.Combine(folders, key + ".bin");
            File.WriteAllBytes(path, new byte[bytes]);
            File.SetLastWriteTimeUtc(path, now.AddDays(-daysAgo));
            return path;
        }
        string fresh = Entry("0123456789abcdef", 100, 1), old = Entry("fedcba9876543210", 100, 31);
        string lru = Entry("00000000000000aa", 100, 20), recent = Entry("00000000000000bb", 100, 2);
        string notOurs = Entry("notes", 100, 400), upper = Entry("0123456789ABCDEF", 100, 400);
        Assert.Equal(2, ImageFolder.Prune(folders, now, budgetBytes: 250));
        Assert.True(File.Exists(fresh) && File.Exists(recent), "the two most recently used entries fit the budget");
        Assert.False(File.Exists(old), "an entry unused for 31 days is removed");
        Assert.False(File.Exists(lru), "the least recently used entry beyond the budget is removed");
        Assert.True(File.Exists(notOurs) && File.Exists(upper), "files not named as cache entries are never touched");

        WriteColourFolder(tmp.File("set"));
        string cacheRoot = tmp.File("cache");
        ImageFolder.Load(tmp.File("set"), ImageRequest.Default, cacheRoot: cacheRoot);
        string entry = ImageFolder.CachePath(tmp.File("set"), ImageRequest.Default, cacheRoot)!;
        File.SetLastWriteTimeUtc(entry, now.AddDays(-100));
        ImageFolder.Load(tmp.File("set"), ImageRequest.Default, cacheRoot: cacheRoot);
        Assert.True(DateTime.UtcNow - File.GetLastWriteTimeUtc(entry) < TimeSpan.FromHours(1), "a cache hit renews the entry");
    }

    [Fact]
    public void A_colour_folder_loads_with_its_class_names_a_seeded_split_and_the_most_common_size()
    {
        using var tmp = new TempFolder();
        WriteColourFolder(tmp.File("set"));
        var split = ImageFolder.Load(tmp.File("set"), ImageRequest.Default, cacheRoot: tmp.File("cache"));
        Assert.Equal(["blue", "red"], split.Train.ClassNames!);
        Assert.Equal((6, 8, 3), (split.Train.Height, split.Train.Width, split.Train.Channels));
        Assert.Equal((10, 2), (split.Train.Count, split.Test.Count));   // 6 / 5 = 1 test image per class
        Assert.Empty(split.Skipped);
        int red = Array.IndexOf(split.Test.Labels, (byte)1);
        var px = split.Test.Image(red);
        Assert.True(px[0] > 190 && px[2] < 60, $"red pixel read as {px[0]},{px[1]},{px[2]}");
        // The second load comes from the cache: the same bytes.
        Assert.NotNull(ImageFolder.CachePath(tmp.File("set"), ImageRequest.Default, tmp.File("cache")));
        var again = ImageFolder.Load(tmp.File("set"), ImageRequest.Default, cacheRoot: tmp.File("cache"));
        Assert.Equal(split.Train.Pixels, again.Train.Pixels);
        Assert.Equal(split.Test.Labels, again.Test.Labels);
        // A changed file changes the key: the folder is decoded again.
        using (var green = new Image<Rgb24>(8, 6, new Rgb24(0, 255, 0))) Save(green, Path.Combine(tmp.File("set"), "red", "r0.png"));
        File.SetLastWriteTimeUtc(Path.Combine(tmp.File("set"), "red", "r0.png"), DateTime.UtcNow.AddMinutes(1));
        Assert.Null(ImageFolder.CachePath(tmp.File("set"), ImageRequest.Default, tmp.File("cache")));
        // Asked for grey at 4x4.
        var grey = ImageFolder.Load(tmp.File("set"), new ImageRequest(4, 4, 1), cacheRoot: tmp.File("cache"));
        Assert.Equal((4, 4, 1, 16), (grey.Train.Height, grey.Train.Width, grey.Train.Channels, grey.Train.SampleBytes));
    }

    [Fact]
    public void A_grey_folder_with_train_and_test_parts_is_one_channel_and_unreadable_images_are_listed_not_fatal()
    {
        using var tmp = new TempFolder();
        string root = tmp.File("digits");
        foreach (string part in new[] { "train", "test" })
            for (int c = 0; c < 3; c++)
                for (int i = 0; i < (part == "train" ? 4 : 2); i++)
                {
                    using var img = new Image<L8>(5, 7, new L8((byte)(c * 100 + i)));
                    Save(img, Path.Combine(root, part, $"digit{c}", $"{i}.{(i == 1 ? "jpg" : i == 2 ? "pgm" : "png")}"));
                }
        string broken = Path.Combine(root, "train", "digit1", "broken.png");
        File.WriteAllBytes(broken, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        string empty = Path.Combine(root, "test", "digit2", "empty.jpg");
        File.WriteAllBytes(empty, []);
        var split = ImageFolder.Load(root, ImageRequest.Default, cacheRoot: tmp.File("cache"));
        Assert.Equal((12, 6, 7, 5, 1), (split.Train.Count, split.Test.Count, split.Train.Height, split.Train.Width, split.Train.Channels));
        Assert.Equal(["digit0", "digit1", "digit2"], split.Test.ClassNames!);
        Assert.Equal(2, split.Skipped.Count);
        Assert.Contains(split.Skipped, s => s.StartsWith(broken + ": "));
        Assert.Contains(split.Skipped, s => s.StartsWith(empty + ": "));
        Assert.All(split.Skipped, s => Assert.DoesNotContain('\n', s));
        Assert.Equal(2, DatasetLoader.Load("folder:" + root, new ImageRequest(7, 5, 1)).Skipped.Count);
    }

    [Fact]
    public void Bad_folders_give_one_line_naming_the_folder()
    {
        using var tmp = new TempFolder();
        Assert.StartsWith($"{tmp.File("none")}: no such folder", Assert.Throws<DatasetFormatException>(() => DatasetLoader.Load("folder:" + tmp.File("none"))).Message);
        Directory.CreateDirectory(tmp.File("flat"));
        File.WriteAllBytes(tmp.File("flat/a.png"), []);
        Assert.StartsWith($"{tmp.File("flat")}: no class subfolders", Assert.Throws<DatasetFormatException>(() => DatasetLoader.Load("folder:" + tmp.File("flat"))).Message);
        Directory.CreateDirectory(tmp.File("bad/cat"));
        for (int i = 0; i < 5; i++) File.WriteAllBytes(tmp.File($"bad/cat/{i}.png"), [1, 2, 3]);
        var e = Assert.Throws<DatasetFormatException>(() => ImageFolder.Load(tmp.File("bad"), ImageRequest.Default, cacheRoot: tmp.File("cache")));
        Assert.StartsWith($"{tmp.File("bad/cat")}: none of the 5 images can be read (first: {tmp.File("bad/cat/0.png")}: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Throws<ArgumentException>(() => ImageRequest.ParseSize("32"));
        Assert.Equal((24, 32), ImageRequest.ParseSize("24x32"));
    }
}

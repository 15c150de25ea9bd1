using System.Security.Cryptography;
using System.Text.Json;
using Qnn.Datasets;

namespace Qnn.Cli.Tests;

/// <summary>
/// The cache's manifest (size and XxHash3 of each file, recorded by the fetch): a load of a damaged, shortened or
/// unrecorded file is refused in one line naming it and saying to fetch again; `qnn data list` calls such a cache not
/// ready; a second fetch repairs it. Small fake files with known SHA-256, never the network.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class CacheManifestTests
{
    private const string Remedy = "run `qnn data fetch mnist` again";

    /// <summary>A cache folder filled by a fetch of four small fake files, and the folder the fetch took them from.</summary>
    private static (string Cache, string Source, KnownFile[] Known) Fetched(TempFolder tmp)
    {
        var rng = new Random(5);
        string source = tmp.File("source");
        Directory.CreateDirectory(source);
        var known = DatasetLoader.FileNames.Select(n =>
        {
            var b = new byte[rng.Next(100, 3000)];
            rng.NextBytes(b);
            File.WriteAllBytes(Path.Combine(source, n), b);
            return new KnownFile(n, Convert.ToHexStringLower(SHA256.HashData(b)));
        }).ToArray();
        string cache = tmp.File("cache/mnist");
        new MnistFetcher(new FetchOptions(cache, source, known)).Fetch();
        return (cache, source, known);
    }

    [Fact]
    public void A_fetch_records_each_files_size_and_xxhash3_and_the_cache_checks_clean()
    {
        using var tmp = new TempFolder();
        var (cache, _, _) = Fetched(tmp);
        var listed = CacheManifest.Read(cache)!;
        Assert.Equal(DatasetLoader.FileNames, listed.Select(f => f.Name));
        foreach (var f in listed) Assert.Equal(CacheManifest.Measure(Path.Combine(cache, f.Name)), f);
        Assert.Null(DatasetLoader.MnistCacheProblem(cache));
        Assert.Empty(Directory.GetFiles(cache, ".*"));      // the manifest's temporary file is gone
    }

    [Fact]
    public void A_flipped_byte_is_found_and_named_and_a_second_fetch_repairs_it()
    {
        using var tmp = new TempFolder();
        var (cache, source, known) = Fetched(tmp);
        string damaged = Path.Combine(cache, DatasetLoader.FileNames[2]);
        byte[] b = File.ReadAllBytes(damaged);
        b[b.Length / 2] ^= 0x10;
        File.WriteAllBytes(damaged, b);

        string problem = DatasetLoader.MnistCacheProblem(cache)!;
        Assert.StartsWith(damaged + ": its XxHash3 differs", problem);
        Assert.EndsWith(Remedy, problem);
        Assert.Single(problem.Split('\n'));

        var repair = new MnistFetcher(new FetchOptions(cache, source, known)).Fetch();
        Assert.Equal("replaced", repair.Files[2].Status);
        Assert.Null(DatasetLoader.MnistCacheProblem(cache));
    }

    [Fact]
    public void A_shortened_file_and_a_missing_manifest_are_named()
    {
        using var tmp = new TempFolder();
        var (cache, source, known) = Fetched(tmp);
        string shortened = Path.Combine(cache, DatasetLoader.FileNames[1]);
        long bytes = new FileInfo(shortened).Length;
        using (var f = new FileStream(shortened, FileMode.Open)) f.SetLength(bytes - 1);
        Assert.Equal($"{shortened}: {bytes - 1} bytes, not the {bytes} fetched (the file is damaged); {Remedy}", DatasetLoader.MnistCacheProblem(cache));

        new MnistFetcher(new FetchOptions(cache, source, known)).Fetch();
        File.Delete(Path.Combine(cache, CacheManifest.FileName));
        Assert.StartsWith(Path.Combine(cache, CacheManifest.FileName) + ": missing", DatasetLoader.MnistCacheProblem(cache));

        // A fetch of files that are all present and correct only writes the manifest again.
        var again = new MnistFetcher(new FetchOptions(cache, source, known)).Fetch();
        Assert.True(again.NothingToDo);
        Assert.Null(DatasetLoader.MnistCacheProblem(cache));
    }

    [Fact]
    public void Data_list_calls_a_damaged_cache_not_ready_and_says_why()
    {
        using var tmp = new TempFolder();
        var (cache, _, _) = Fetched(tmp);
        string root = Path.GetDirectoryName(cache)!;
        var ok = JsonDocument.Parse(QnnCommand.Run("data", "list", "--cache", root, "--json").Out).RootElement[0];
        Assert.True(ok.GetProperty("cached").GetBoolean());

        string damaged = Path.Combine(cache, DatasetLoader.FileNames[0]);
        File.AppendAllText(damaged, "x");
        var json = JsonDocument.Parse(QnnCommand.Run("data", "list", "--cache", root, "--json").Out).RootElement[0];
        Assert.False(json.GetProperty("cached").GetBoolean());
        Assert.StartsWith(damaged, json.GetProperty("problem").GetString());
        var table = QnnCommand.Run("data", "list", "--cache", root);
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("no: damaged", table.Out);
        Assert.Contains(damaged + ":", table.Out);
    }
}

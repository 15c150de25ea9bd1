using System.Text;
using Qnn.Format;

namespace Qnn.Datasets;

/// <summary>
/// Opens a text corpus named on the command line: <c>brown</c> (the cache filled by <c>qnn data fetch brown</c>),
/// <c>ptb:PATH</c> (a folder with the Penn Treebank's <c>ptb.train.txt</c>, <c>ptb.valid.txt</c>,
/// <c>ptb.test.txt</c>) or <c>text:PATH</c> (any UTF-8 file, character level). Every file is read whole up to
/// <see cref="LanguageModelText.MaxTextBytes"/>; every failure is one <see cref="TextCorpusException"/> (or
/// <see cref="FilePolicyException"/>) line naming the file or option.
/// </summary>
public static class TextCorpusLoader
{
    /// <summary>The text forms of --dataset, for help texts and errors.</summary>
    public const string Forms = "brown, ptb:PATH or text:PATH";

    public static readonly string[] PtbFiles = ["ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"];

    /// <summary>The character-level split: the first 90% of the characters train, the next 5% validate, the last 5% test.</summary>
    public const int TrainPercent = 90, ValidPercent = 5;

    /// <summary>True for the names of text corpora: <c>brown</c>, <c>ptb:…</c>, <c>text:…</c>.</summary>
    public static bool IsText(string dataset) =>
        dataset == "brown" || dataset.StartsWith("ptb:", StringComparison.Ordinal) || dataset.StartsWith("text:", StringComparison.Ordinal);

    /// <summary>Loads <paramref name="dataset"/>; <paramref name="cacheRoot"/> replaces <see cref="DataCache.Root"/> for <c>brown</c>.</summary>
    public static TextCorpus Load(string dataset, string? cacheRoot = null)
    {
        if (dataset == "brown") return BrownCorpus.Load(BrownCorpus.CacheDirectory(cacheRoot));
        if (dataset.StartsWith("ptb:", StringComparison.Ordinal)) return LoadPtb(dataset, Path(dataset, 4, "a folder with ptb.train.txt, ptb.valid.txt and ptb.test.txt"));
        if (dataset.StartsWith("text:", StringComparison.Ordinal)) return LoadCharacters(dataset, Path(dataset, 5, "a UTF-8 text file"));
        throw new TextCorpusException($"--dataset {dataset}: not a text corpus; use {Forms}");
    }

    private static string Path(string dataset, int prefix, string what)
    {
        string path = dataset[prefix..];
        if (string.IsNullOrWhiteSpace(path)) throw new TextCorpusException($"--dataset \"{dataset}\": no path after the colon; give {what}");
        return path;
    }

    /// <summary>
    /// The PTB's three files: one sentence per line, words split on spaces (and tabs), &lt;eos&gt; after every line
    /// (a blank line is a lone &lt;eos&gt;). The vocabulary is every word of the training file (&lt;unk&gt; and &lt;eos&gt;
    /// first, then by falling count, ties in ordinal order); a validation or test word outside it becomes &lt;unk&gt;.
    /// Words are taken as they are: the PTB files are already lower case with numbers N.
    /// </summary>
    public static TextCorpus LoadPtb(string name, string folder)
    {
        if (!Directory.Exists(folder))
            throw new TextCorpusException($"--dataset {name}: {folder} is not a folder (ptb:PATH names a folder with {string.Join(", ", PtbFiles)})");
        var parts = PtbFiles.Select(f =>
        {
            string path = System.IO.Path.Combine(folder, f);
            if (!File.Exists(path))
                throw new TextCorpusException($"{path}: missing (--dataset ptb:PATH needs {string.Join(", ", PtbFiles)} in {folder})");
            var sentences = Lines(ReadText(path));
            if (sentences.Count == 0) throw new TextCorpusException($"{path}: empty (one sentence per line)");
            return sentences;
        }).ToArray();
        var vocabulary = LanguageModelText.Vocabulary(LanguageModelText.Count(parts[0]), null);
        var ids = vocabulary.Select((w, i) => (w, i)).ToDictionary(x => x.w, x => x.i, StringComparer.Ordinal);
        return new TextCorpus(name, false, vocabulary,
            LanguageModelText.Ids(parts[0], ids), LanguageModelText.Ids(parts[1], ids), LanguageModelText.Ids(parts[2], ids));
    }

    /// <summary>
    /// A character-level corpus: every Unicode scalar value of the file is a token, the vocabulary its distinct
    /// characters sorted by value (newline included), split by position: the first <see cref="TrainPercent"/>% train,
    /// the next <see cref="ValidPercent"/>% validate, the rest test (boundaries rounded down).
    /// </summary>
    public static TextCorpus LoadCharacters(string name, string path)
    {
        string text = ReadText(path);
        var runes = new List<int>(text.Length);
        foreach (Rune r in text.EnumerateRunes()) runes.Add(r.Value);
        const int minimum = 20;
        if (runes.Count < minimum)
            throw new TextCorpusException($"{path}: {runes.Count} characters; the {TrainPercent}/{ValidPercent}/{100 - TrainPercent - ValidPercent} split needs at least {minimum}");
        int[] distinct = runes.Distinct().Order().ToArray();
        var index = new Dictionary<int, int>(distinct.Length);
        for (int i = 0; i < distinct.Length; i++) index[distinct[i]] = i;
        int[] ids = runes.Select(r => index[r]).ToArray();
        int trainEnd = (int)((long)ids.Length * TrainPercent / 100), validEnd = (int)((long)ids.Length * (TrainPercent + ValidPercent) / 100);
        return new TextCorpus(name, true, distinct.Select(v => new Rune(v).ToString()).ToArray(), ids[..trainEnd], ids[trainEnd..validEnd], ids[validEnd..]);
    }

    /// <summary>A text file read whole (at most <see cref="LanguageModelText.MaxTextBytes"/>) as strict UTF-8.</summary>
    private static string ReadText(string path) =>
        LanguageModelText.DecodeUtf8(InputFile.ReadAllBytes(path, LanguageModelText.MaxTextBytes, "a text corpus file"), path);

    /// <summary>The lines of <paramref name="text"/> (a final newline ends the last line, it does not start another), each split into words.</summary>
    private static List<string[]> Lines(string text)
    {
        var lines = text.Split('\n');
        int count = lines.Length > 0 && lines[^1].Length == 0 ? lines.Length - 1 : lines.Length;
        var result = new List<string[]>(count);
        for (int i = 0; i < count; i++) result.Add(lines[i].Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries));
        return result;
    }
}

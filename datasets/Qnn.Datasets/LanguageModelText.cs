using System.Text;

namespace Qnn.Datasets;

/// <summary>A text corpus that cannot be read or prepared; the message names the file or option and the problem.</summary>
public sealed class TextCorpusException(string message) : DatasetFormatException(message);

/// <summary>
/// The one home of the Penn Treebank language-modelling rules (Mikolov et al. 2010's preparation of the PTB, as used
/// by Zaremba et al. 2014) that the Brown preparation, <c>ptb:</c> loading and prompt encoding share: words lower
/// case, numerals one token <see cref="Number"/>, a fixed-size vocabulary of the most frequent training words with
/// the rest <see cref="Unk"/>, and <see cref="Eos"/> after every sentence.
/// </summary>
public static class LanguageModelText
{
    public const string Unk = "<unk>";
    public const string Eos = "<eos>";

    /// <summary>PTB's one token for every numeral ("N", upper case, so it never collides with a lower-cased word).</summary>
    public const string Number = "N";

    /// <summary>The vocabulary's first two ids, whatever the corpus: 0 is <see cref="Unk"/>, 1 is <see cref="Eos"/>.</summary>
    public const int UnkId = 0, EosId = 1;

    /// <summary>
    /// A Brown token <c>word/tag</c> as the language model sees it. The tag is after the last '/' (so <c>1/2/cd</c> is
    /// the word <c>1/2</c>). A cardinal number (a tag whose parts split on '-' include <c>cd</c>, e.g. <c>cd</c>,
    /// <c>cd-tl</c>, <c>fw-cd</c>, <c>cd$</c>) written with a digit becomes <see cref="Number"/>, as in the PTB, where
    /// "1,000" is N but "two" and "million" stay words; every other word is lower-cased (invariant culture).
    /// </summary>
    public static string BrownWord(string token)
    {
        int slash = token.LastIndexOf('/');
        if (slash <= 0) return token.ToLowerInvariant();   // no tag (not in the corpus): the token is the word
        string word = token[..slash], tag = token[(slash + 1)..];
        bool cardinal = tag.Split('-').Any(p => p is "cd" or "cd$");
        return cardinal && word.Any(char.IsAsciiDigit) ? Number : word.ToLowerInvariant();
    }

    /// <summary>
    /// A word of untagged text (a prompt) as the language model sees it: <see cref="Unk"/>, <see cref="Eos"/> and
    /// <see cref="Number"/> as they are; a numeral (at least one digit, otherwise only <c>. , : / -</c>, the forms
    /// Brown tags <c>cd</c>: "1,000", "3.5", "1/2", "1932-33") becomes <see cref="Number"/>; anything else lower case.
    /// </summary>
    public static string PromptWord(string word)
    {
        if (word is Unk or Eos or Number) return word;
        bool digit = false;
        foreach (char c in word)
        {
            if (char.IsAsciiDigit(c)) digit = true;
            else if (c is not ('.' or ',' or ':' or '/' or '-')) return word.ToLowerInvariant();
        }
        return digit ? Number : word.ToLowerInvariant();
    }

    /// <summary>
    /// The vocabulary of <paramref name="trainCounts"/>: <see cref="Unk"/> (id 0), <see cref="Eos"/> (id 1), then the
    /// words by falling count, equal counts in ordinal string order, at most <paramref name="size"/> entries in all
    /// (null: every word). <see cref="Unk"/> and <see cref="Eos"/> in the counts keep their fixed ids.
    /// </summary>
    public static List<string> Vocabulary(IReadOnlyDictionary<string, int> trainCounts, int? size)
    {
        if (size is < 2) throw new ArgumentOutOfRangeException(nameof(size), "a vocabulary holds at least <unk> and <eos>");
        var words = trainCounts.Where(kv => kv.Key is not (Unk or Eos))
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => kv.Key);
        if (size is { } n) words = words.Take(n - 2);
        return [Unk, Eos, .. words];
    }

    /// <summary>The counts of every word of <paramref name="sentences"/>.</summary>
    public static Dictionary<string, int> Count(IEnumerable<IReadOnlyList<string>> sentences)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var sentence in sentences)
            foreach (string w in sentence)
                counts[w] = counts.GetValueOrDefault(w) + 1;
        return counts;
    }

    /// <summary>The ids of <paramref name="sentences"/>, each followed by <see cref="EosId"/>; a word outside the vocabulary is <see cref="UnkId"/>.</summary>
    public static int[] Ids(IEnumerable<IReadOnlyList<string>> sentences, IReadOnlyDictionary<string, int> ids)
    {
        var result = new List<int>();
        foreach (var sentence in sentences)
        {
            foreach (string w in sentence) result.Add(ids.TryGetValue(w, out int id) ? id : UnkId);
            result.Add(EosId);
        }
        return result.ToArray();
    }

    /// <summary>
    /// Decodes <paramref name="bytes"/> as strict UTF-8 (a leading byte-order mark is skipped); invalid UTF-8 is a
    /// <see cref="TextCorpusException"/> naming <paramref name="path"/> and the byte offset of the first bad sequence.
    /// </summary>
    public static string DecodeUtf8(byte[] bytes, string path)
    {
        ReadOnlySpan<byte> span = bytes;
        int start = span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        if (!System.Text.Unicode.Utf8.IsValid(span[start..]))
        {
            int offset = start;
            while (offset < span.Length && Rune.DecodeFromUtf8(span[offset..], out _, out int used) == System.Buffers.OperationStatus.Done) offset += used;
            throw new TextCorpusException($"{path}: not UTF-8 (invalid byte 0x{span[offset]:X2} at byte offset {offset:N0})");
        }
        return Encoding.UTF8.GetString(span[start..]);
    }

    /// <summary>Every text file of a corpus is read whole up to this size; a bigger one is refused naming the file and the cap.</summary>
    public const long MaxTextBytes = 64L << 20;
}

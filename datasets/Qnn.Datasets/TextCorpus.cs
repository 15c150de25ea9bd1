using System.Text;

namespace Qnn.Datasets;

/// <summary>
/// A tokenised corpus for language models: word level (<c>brown</c>, <c>ptb:PATH</c>; the PTB rules of
/// <see cref="LanguageModelText"/>) or character level (<c>text:PATH</c>: every Unicode scalar value is a token).
/// </summary>
public sealed class TextCorpus
{
    private readonly Dictionary<string, int> _ids;

    public TextCorpus(string name, bool characterLevel, IReadOnlyList<string> vocabulary, int[] train, int[] valid, int[] test)
    {
        Name = name;
        CharacterLevel = characterLevel;
        Vocabulary = vocabulary;
        Train = train;
        Valid = valid;
        Test = test;
        _ids = new Dictionary<string, int>(vocabulary.Count, StringComparer.Ordinal);
        for (int i = 0; i < vocabulary.Count; i++)
            if (!_ids.TryAdd(vocabulary[i], i)) throw new ArgumentException($"{name}: the token \"{vocabulary[i]}\" is twice in the vocabulary");
        if (!characterLevel && (vocabulary.Count < 2 || vocabulary[LanguageModelText.UnkId] != LanguageModelText.Unk || vocabulary[LanguageModelText.EosId] != LanguageModelText.Eos))
            throw new ArgumentException($"{name}: a word vocabulary starts with {LanguageModelText.Unk} and {LanguageModelText.Eos}");
    }

    /// <summary>"brown", "ptb:/path" or "text:/path", as given to <see cref="TextCorpusLoader.Load"/>.</summary>
    public string Name { get; }

    public bool CharacterLevel { get; }

    /// <summary>Id → token; at word level id 0 is &lt;unk&gt; and id 1 is &lt;eos&gt;; at character level sorted by scalar value.</summary>
    public IReadOnlyList<string> Vocabulary { get; }

    /// <summary>The id of &lt;unk&gt;; -1 at character level.</summary>
    public int UnkId => CharacterLevel ? -1 : LanguageModelText.UnkId;

    /// <summary>The id of &lt;eos&gt;; -1 at character level (a newline is an ordinary character there).</summary>
    public int EosId => CharacterLevel ? -1 : LanguageModelText.EosId;

    public int[] Train { get; }
    public int[] Valid { get; }
    public int[] Test { get; }

    /// <summary>The id of <paramref name="token"/>: at word level <see cref="UnkId"/> when it is not in the vocabulary; at character level an unknown character is an error.</summary>
    public int Lookup(string token)
    {
        if (_ids.TryGetValue(token, out int id)) return id;
        if (!CharacterLevel) return UnkId;
        throw new TextCorpusException($"{Name}: the character {Describe(token)} is not in the corpus's vocabulary of {Vocabulary.Count} characters");
    }

    /// <summary>
    /// Prompt text → ids. Word level: split on whitespace, each word as <see cref="LanguageModelText.PromptWord"/>
    /// (lower case, numerals N), unknown words &lt;unk&gt;, newlines not turned into &lt;eos&gt; (write "&lt;eos&gt;" for one).
    /// Character level: one id per Unicode scalar value.
    /// </summary>
    public int[] Encode(string text)
    {
        if (CharacterLevel) return text.EnumerateRunes().Select(r => Lookup(r.ToString())).ToArray();
        return text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(w => Lookup(LanguageModelText.PromptWord(w))).ToArray();
    }

    /// <summary>Ids → text: words joined by spaces with &lt;eos&gt; as a newline; characters concatenated.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var text = new StringBuilder();
        bool lineStart = true;
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)Vocabulary.Count) throw new ArgumentOutOfRangeException(nameof(ids), $"{Name}: id {id} is outside the vocabulary of {Vocabulary.Count} tokens");
            if (CharacterLevel) { text.Append(Vocabulary[id]); continue; }
            if (id == LanguageModelText.EosId) { text.Append('\n'); lineStart = true; continue; }
            if (!lineStart) text.Append(' ');
            text.Append(Vocabulary[id]);
            lineStart = false;
        }
        return text.ToString();
    }

    /// <summary>The share of <paramref name="ids"/> that are &lt;unk&gt; (0 at character level): the out-of-vocabulary rate of a split.</summary>
    public double UnknownShare(IReadOnlyList<int> ids) =>
        CharacterLevel || ids.Count == 0 ? 0 : (double)ids.Count(i => i == LanguageModelText.UnkId) / ids.Count;

    private static string Describe(string token) =>
        token.Length > 0 && Rune.TryGetRuneAt(token, 0, out Rune r) && !Rune.IsControl(r) && !Rune.IsWhiteSpace(r)
            ? $"'{token}' (U+{r.Value:X4})"
            : string.Join(" ", token.EnumerateRunes().Select(x => $"U+{x.Value:X4}"));
}

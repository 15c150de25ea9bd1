using System.Text;
using Qnn.Datasets;

namespace Qnn.Format.Tests;

/// <summary>The PTB preparation rules on small inputs, and ptb:/text: loading with their errors.</summary>
public class TextCorpusTests
{
    [Theory]
    [InlineData("The/at", "the")]
    [InlineData("Fulton/np-tl", "fulton")]
    [InlineData("1,000/cd", "N")]
    [InlineData("1932-33/cd", "N")]
    [InlineData("1/2/cd", "N")]              // the tag is after the last slash
    [InlineData("1960/cd-tl", "N")]
    [InlineData("3/fw-cd", "N")]
    [InlineData("two/cd", "two")]            // PTB keeps number words: only numerals written with digits are N
    [InlineData("Million/cd-hl", "million")]
    [InlineData("15th/od", "15th")]          // an ordinal is not a cardinal
    [InlineData("$600/nns", "$600")]
    [InlineData("//in", "/")]
    [InlineData("AAb//nn", "aab/")]
    public void A_brown_token_loses_its_tag_and_case_and_a_numeral_becomes_N(string token, string word) =>
        Assert.Equal(word, LanguageModelText.BrownWord(token));

    [Theory]
    [InlineData("Hello", "hello")]
    [InlineData("1,000", "N")]
    [InlineData("3.5", "N")]
    [InlineData("N", "N")]
    [InlineData("<eos>", "<eos>")]
    [InlineData("15th", "15th")]
    [InlineData("-", "-")]
    public void A_prompt_word_follows_the_same_rules(string word, string expected) =>
        Assert.Equal(expected, LanguageModelText.PromptWord(word));

    [Fact]
    public void The_vocabulary_keeps_the_most_frequent_words_with_ties_in_ordinal_order()
    {
        var counts = new Dictionary<string, int> { ["b"] = 2, ["a"] = 2, ["B"] = 2, ["c"] = 1, ["d"] = 3, ["<unk>"] = 9 };
        Assert.Equal(["<unk>", "<eos>", "d", "B", "a"], LanguageModelText.Vocabulary(counts, 5));
        Assert.Equal(["<unk>", "<eos>", "d", "B", "a", "b", "c"], LanguageModelText.Vocabulary(counts, null));
        var ids = LanguageModelText.Vocabulary(counts, 5).Select((w, i) => (w, i)).ToDictionary(x => x.w, x => x.i);
        Assert.Equal([2, 0, 4, 1, 0, 1], LanguageModelText.Ids([["d", "c", "a"], ["zzz"]], ids));
    }

    [Fact]
    public void Brown_files_are_split_by_index_mod_10_into_400_50_50()
    {
        Assert.Equal([BrownCorpus.Part.Train, BrownCorpus.Part.Train, BrownCorpus.Part.Train, BrownCorpus.Part.Train, BrownCorpus.Part.Train,
            BrownCorpus.Part.Train, BrownCorpus.Part.Train, BrownCorpus.Part.Train, BrownCorpus.Part.Valid, BrownCorpus.Part.Test],
            Enumerable.Range(0, 10).Select(BrownCorpus.PartOf));
        var parts = Enumerable.Range(0, 500).GroupBy(BrownCorpus.PartOf).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(400, parts[BrownCorpus.Part.Train]);
        Assert.Equal(50, parts[BrownCorpus.Part.Valid]);
        Assert.Equal(50, parts[BrownCorpus.Part.Test]);
    }

    [Fact]
    public void Brown_sentences_are_the_non_blank_lines()
    {
        var s = BrownCorpus.Sentences("\n\n\tThe/at Jury/nn said/vbd 2/cd ./.\r\n\n\n\tOnly/rb ''/''\n  \n");
        Assert.Equal(2, s.Count);
        Assert.Equal(["the", "jury", "said", "N", "."], s[0]);
        Assert.Equal(["only", "''"], s[1]);
    }

    private static string Ptb(TempFolder tmp, string train, string? valid, string test)
    {
        string dir = tmp.File("ptb");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "ptb.train.txt"), train);
        if (valid is not null) File.WriteAllText(Path.Combine(dir, "ptb.valid.txt"), valid);
        File.WriteAllText(Path.Combine(dir, "ptb.test.txt"), test);
        return dir;
    }

    [Fact]
    public void Ptb_files_give_a_vocabulary_from_train_and_unk_for_other_words()
    {
        using var tmp = new TempFolder();
        string dir = Ptb(tmp, " the cat sat on the mat \n the <unk> had N cats \n", " the dog sat \n", " a cat\n");
        var c = TextCorpusLoader.Load("ptb:" + dir);
        Assert.Equal("ptb:" + dir, c.Name);
        Assert.False(c.CharacterLevel);
        Assert.Equal((0, 1), (c.UnkId, c.EosId));
        Assert.Equal(["<unk>", "<eos>", "the", "N", "cat", "cats", "had", "mat", "on", "sat"], c.Vocabulary);
        Assert.Equal("the cat sat on the mat\nthe <unk> had N cats\n", c.Decode(c.Train));
        Assert.Equal(13, c.Train.Length);
        Assert.Equal("the <unk> sat\n", c.Decode(c.Valid));                // dog is not in train
        Assert.Equal([c.UnkId, c.Lookup("cat"), c.EosId], c.Test);
        Assert.Equal(1.0 / 3, c.UnknownShare(c.Test), 9);
        Assert.Equal([c.Lookup("the"), c.Lookup("N"), c.UnkId, c.EosId], c.Encode("The 1,000 zebras <eos>"));
    }

    [Fact]
    public void A_missing_ptb_file_or_folder_is_named()
    {
        using var tmp = new TempFolder();
        string dir = Ptb(tmp, "a b\n", null, "a\n");
        var e = Assert.Throws<TextCorpusException>(() => TextCorpusLoader.Load("ptb:" + dir));
        Assert.StartsWith($"{Path.Combine(dir, "ptb.valid.txt")}: missing", e.Message);
        Assert.Contains("is not a folder", Assert.Throws<TextCorpusException>(() => TextCorpusLoader.Load("ptb:" + tmp.File("nope"))).Message);
        Assert.Contains("no path after the colon", Assert.Throws<TextCorpusException>(() => TextCorpusLoader.Load("ptb:")).Message);
        File.WriteAllText(Path.Combine(dir, "ptb.valid.txt"), "");
        Assert.Equal($"{Path.Combine(dir, "ptb.valid.txt")}: empty (one sentence per line)", Assert.Throws<TextCorpusException>(() => TextCorpusLoader.Load("ptb:" + dir)).Message);
    }

    [Fact]
    public void A_file_over_the_cap_is_refused_naming_it_and_the_cap()
    {
        using var tmp = new TempFolder();
        string big = tmp.File("big.txt");
        using (var s = File.Create(big)) s.SetLength(LanguageModelText.MaxTextBytes + 1);
        var e = Assert.Throws<FilePolicyException>(() => TextCorpusLoader.Load("text:" + big));
        Assert.Equal($"{big}: 67,108,865 bytes, over the 64 MiB limit of a text corpus file", e.Message);
        string dir = Ptb(tmp, "a\n", "a\n", "a\n");
        File.Copy(big, Path.Combine(dir, "ptb.test.txt"), overwrite: true);
        Assert.Contains("ptb.test.txt: 67,108,865 bytes, over the 64 MiB limit", Assert.Throws<FilePolicyException>(() => TextCorpusLoader.Load("ptb:" + dir)).Message);
    }

    [Fact]
    public void Invalid_utf8_is_refused_with_the_byte_offset()
    {
        using var tmp = new TempFolder();
        string path = tmp.File("bad.txt");
        File.WriteAllBytes(path, [.. "héllo wörld, and more text here"u8.ToArray()[..7], 0xE2, 0x28, 0xA1, .. "rest of it all"u8.ToArray()]);
        var e = Assert.Throws<TextCorpusException>(() => TextCorpusLoader.Load("text:" + path));
        Assert.Equal($"{path}: not UTF-8 (invalid byte 0xE2 at byte offset 7)", e.Message);
        string dir = Ptb(tmp, "a\n", "a\n", "a\n");
        File.WriteAllBytes(Path.Combine(dir, "ptb.train.txt"), [0x61, 0x20, 0xFF, 0x0A]);
        Assert.Contains("ptb.train.txt: not UTF-8 (invalid byte 0xFF at byte offset 2)", Assert.Throws<TextCorpusException>(() => TextCorpusLoader.Load("ptb:" + dir)).Message);
        Assert.Contains("no such file", Assert.ThrowsAny<IOException>(() => TextCorpusLoader.Load("text:" + tmp.File("none.txt"))).Message);
    }

    [Fact]
    public void Text_is_character_level_with_sorted_scalar_values_and_a_90_5_5_split()
    {
        using var tmp = new TempFolder();
        string path = tmp.File("t.txt");
        // 100 scalar values: "ab\n" repeated, an é and an emoji outside the BMP (one token, two UTF-16 units).
        string text = string.Concat(Enumerable.Repeat("ab\n", 32)) + "é😀cc";
        File.WriteAllText(path, "\uFEFF" + text, new UTF8Encoding(false));      // a byte-order mark is skipped
        var c = TextCorpusLoader.Load("text:" + path);
        Assert.True(c.CharacterLevel);
        Assert.Equal((-1, -1), (c.UnkId, c.EosId));
        Assert.Equal(["\n", "a", "b", "c", "é", "😀"], c.Vocabulary);
        Assert.Equal((90, 5, 5), (c.Train.Length, c.Valid.Length, c.Test.Length));
        Assert.Equal(text, c.Decode(c.Train.Concat(c.Valid).Concat(c.Test)));
        Assert.Equal([1, 4, 5], c.Encode("aé😀"));
        var e = Assert.Throws<TextCorpusException>(() => c.Encode("az"));
        Assert.Contains("'z' (U+007A) is not in the corpus's vocabulary of 6 characters", e.Message);
        File.WriteAllText(path, "short");
        Assert.Contains("5 characters; the 90/5/5 split needs at least 20", Assert.Throws<TextCorpusException>(() => TextCorpusLoader.Load("text:" + path)).Message);
    }

    [Fact]
    public void Text_names_are_known_and_the_image_loader_points_to_language_models()
    {
        Assert.True(TextCorpusLoader.IsText("brown"));
        Assert.True(TextCorpusLoader.IsText("ptb:x"));
        Assert.True(TextCorpusLoader.IsText("text:x"));
        Assert.False(TextCorpusLoader.IsText("mnist"));
        var e = Assert.Throws<TextCorpusException>(() => DatasetLoader.Load("brown"));
        Assert.Contains("--dataset brown: a text corpus; language-model training needs --arch lstm or gru", e.Message);
        Assert.Contains("not a text corpus", Assert.Throws<TextCorpusException>(() => TextCorpusLoader.Load("mnist")).Message);
    }

    [Fact]
    public void A_token_stream_file_round_trips_and_a_truncated_one_is_named()
    {
        using var tmp = new TempFolder();
        var contents = new TokenStreamFile.Contents(1, new string('a', 64), ["<unk>", "<eos>", "héllo"], [2, 1], [0, 1], [2, 2, 1]);
        string path = tmp.File("x.tokens");
        File.WriteAllBytes(path, TokenStreamFile.Serialize(contents));
        var back = TokenStreamFile.Read(path);
        Assert.Equal(contents.Vocabulary, back.Vocabulary);
        Assert.Equal(contents.Test, back.Test);
        Assert.Equal(contents.SourceSha256, back.SourceSha256);
        File.WriteAllBytes(path, TokenStreamFile.Serialize(contents)[..^2]);
        Assert.StartsWith($"{path}: not a prepared token file", Assert.Throws<TextCorpusException>(() => TokenStreamFile.Read(path)).Message);
    }
}

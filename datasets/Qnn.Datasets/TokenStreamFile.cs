using System.Buffers.Binary;
using System.Text;
using Qnn.Format;

namespace Qnn.Datasets;

/// <summary>
/// The prepared form of a word corpus in the data cache, so that a load reads ids instead of re-tokenising:
/// the magic <c>QNNTOKS1</c>, the version of the preparation rules, the SHA-256 of the source (32 bytes), then the
/// vocabulary (int32 count; each token an int32 byte length and its UTF-8) and the train, valid and test streams
/// (each an int32 count and that many int32 ids), all little-endian. Written by the output policy (temporary file,
/// then rename) and listed in the <see cref="CacheManifest"/>, which every load checks.
/// </summary>
public static class TokenStreamFile
{
    private static readonly byte[] Magic = "QNNTOKS1"u8.ToArray();

    /// <summary>A prepared file is at most this large (Brown's is about 5 MB).</summary>
    public const long MaxBytes = 512L << 20;

    public sealed record Contents(int RulesVersion, string SourceSha256, IReadOnlyList<string> Vocabulary, int[] Train, int[] Valid, int[] Test);

    public static byte[] Serialize(Contents c)
    {
        using var s = new MemoryStream();
        using var w = new BinaryWriter(s, Encoding.UTF8);
        w.Write(Magic);
        w.Write(c.RulesVersion);
        w.Write(Convert.FromHexString(c.SourceSha256));
        w.Write(c.Vocabulary.Count);
        foreach (string t in c.Vocabulary)
        {
            byte[] b = Encoding.UTF8.GetBytes(t);
            w.Write(b.Length);
            w.Write(b);
        }
        foreach (int[] part in new[] { c.Train, c.Valid, c.Test })
        {
            w.Write(part.Length);
            foreach (int id in part) w.Write(id);
        }
        w.Flush();
        return s.ToArray();
    }

    /// <summary>Reads <paramref name="path"/>; a <see cref="TextCorpusException"/> naming it when its structure is not the one above.</summary>
    public static Contents Read(string path)
    {
        byte[] bytes = InputFile.ReadAllBytes(path, MaxBytes, "a prepared token file");
        ReadOnlySpan<byte> s = bytes;
        int at = 0;
        string Bad(string why) => throw new TextCorpusException($"{path}: not a prepared token file ({why})");
        int Int()
        {
            if (at + 4 > bytes.Length) Bad("ends early");
            int v = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at));
            at += 4;
            return v;
        }
        if (!s.StartsWith(Magic)) Bad("no QNNTOKS1 magic");
        at = Magic.Length;
        int version = Int();
        if (at + 32 > s.Length) Bad("ends early");
        string sha = Convert.ToHexStringLower(s.Slice(at, 32));
        at += 32;
        int count = Int();
        if (count < 0 || count > s.Length / 4) Bad($"vocabulary of {count} tokens");
        var vocabulary = new string[count];
        for (int i = 0; i < count; i++)
        {
            int n = Int();
            if (n < 0 || at + n > s.Length) Bad($"token {i} of {n} bytes");
            vocabulary[i] = Encoding.UTF8.GetString(s.Slice(at, n));
            at += n;
        }
        var parts = new int[3][];
        for (int p = 0; p < 3; p++)
        {
            int n = Int();
            if (n < 0 || (long)at + 4L * n > s.Length) Bad($"a stream of {n} ids");
            var ids = new int[n];
            for (int i = 0; i < n; i++)
            {
                ids[i] = BinaryPrimitives.ReadInt32LittleEndian(s[at..]);
                at += 4;
                if ((uint)ids[i] >= (uint)count) Bad($"id {ids[i]} outside the vocabulary of {count}");
            }
            parts[p] = ids;
        }
        if (at != s.Length) Bad($"{s.Length - at} bytes after the test stream");
        return new Contents(version, sha, vocabulary, parts[0], parts[1], parts[2]);
    }
}

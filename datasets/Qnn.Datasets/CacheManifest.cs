using System.IO.Hashing;
using System.Text.Json;
using Qnn.Format;

namespace Qnn.Datasets;

/// <summary>One cached file as the fetch recorded it: its size and its XxHash3 (64-bit, hex).</summary>
public sealed record CachedFile(string Name, long Bytes, string XxHash3);

/// <summary>
/// The record a fetch leaves beside the files it checked (<see cref="FileName"/>): each file's size and XxHash3.
/// SHA-256 proves a fetch got the real data; this fast hash proves at every load that the bytes are still the
/// ones the fetch checked (XxHash3 reads about 5 GB/s, so MNIST's 55 MB cost milliseconds, not SHA-256's 200 ms).
/// </summary>
public static class CacheManifest
{
    public const string FileName = "manifest.json";

    private sealed record Document(string Hash, List<CachedFile> Files);

    private const string HashName = "xxh3-64";

    /// <summary>The size and XxHash3 of a file, read in 1 MiB pieces.</summary>
    public static CachedFile Measure(string path)
    {
        var hash = new XxHash3();
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        var buffer = new byte[1 << 20];
        long bytes = 0;
        int n;
        while ((n = s.Read(buffer)) > 0)
        {
            hash.Append(buffer.AsSpan(0, n));
            bytes += n;
        }
        return new CachedFile(Path.GetFileName(path), bytes, Convert.ToHexStringLower(hash.GetCurrentHash()));
    }

    /// <summary>Writes the manifest of <paramref name="files"/> into <paramref name="directory"/> by the output policy (temporary file, then rename).</summary>
    public static void Write(string directory, IEnumerable<CachedFile> files) =>
        OutputFile.WriteAllBytes(Path.Combine(directory, FileName),
            JsonSerializer.SerializeToUtf8Bytes(new Document(HashName, files.ToList()), new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>A manifest lists four files in a few hundred bytes; anything past this is not one.</summary>
    private const long MaxBytes = 1 << 20;

    /// <summary>The files the manifest of <paramref name="directory"/> lists, or null when it is absent or unreadable.</summary>
    public static IReadOnlyList<CachedFile>? Read(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            var doc = JsonSerializer.Deserialize<Document>(InputFile.ReadAllBytes(path, MaxBytes, "a cache manifest"));
            return doc is { Hash: HashName, Files: not null } ? doc.Files : null;
        }
        catch (Exception e) when (e is JsonException or FilePolicyException)
        {
            return null;
        }
    }

    /// <summary>
    /// Null when every one of <paramref name="names"/> is in <paramref name="directory"/> with the size and XxHash3
    /// the manifest recorded; otherwise one line naming the first file that is not, ending with <paramref name="remedy"/>.
    /// </summary>
    public static string? Problem(string directory, IEnumerable<string> names, string remedy)
    {
        var listed = Read(directory);
        if (listed is null)
            return $"{Path.Combine(directory, FileName)}: missing or unreadable (the sizes and hashes recorded at fetch time); {remedy}";
        foreach (string name in names)
        {
            string path = Path.Combine(directory, name);
            var expected = listed.FirstOrDefault(f => f.Name == name);
            if (expected is null) return $"{path}: not in {FileName}; {remedy}";
            if (!File.Exists(path)) return $"{path}: missing; {remedy}";
            long bytes = new FileInfo(path).Length;
            if (bytes != expected.Bytes) return $"{path}: {bytes} bytes, not the {expected.Bytes} fetched (the file is damaged); {remedy}";
            if (Measure(path).XxHash3 != expected.XxHash3) return $"{path}: its XxHash3 differs from the one recorded at fetch time (the file is damaged); {remedy}";
        }
        return null;
    }
}

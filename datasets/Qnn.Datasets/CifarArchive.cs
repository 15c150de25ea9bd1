using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Qnn.Format;

namespace Qnn.Datasets;

/// <summary>
/// Imports the official CIFAR-10 binary archive, <c>cifar-10-binary.tar.gz</c> (162 MB), into the cache: its MD5 must be
/// the one published on https://www.cs.toronto.edu/~kriz/cifar.html, then the batch files and the class names are
/// taken from its <c>cifar-10-batches-bin/</c> folder, each through the output policy and checked in size.
/// </summary>
public static class CifarArchive
{
    public const string FileName = "cifar-10-binary.tar.gz";
    public const string PublishedMd5 = "c32a1d4ab5d03f1284b67883e8d87530";
    public const string Url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";

    /// <summary>Largest archive read: the real one is 170,052,171 bytes.</summary>
    public const long MaxArchiveBytes = 512L << 20;

    /// <summary>Every file wanted from the archive and its exact size.</summary>
    public static readonly IReadOnlyDictionary<string, long> Files = CifarReader.Cifar10Train.Append(CifarReader.Cifar10Test)
        .ToDictionary(f => f, _ => 10_000L * (1 + CifarReader.ImageBytes));

    /// <summary>Checks <paramref name="archive"/>'s MD5 (against <paramref name="md5"/>, the published one unless a test passes another) and extracts it into <paramref name="dir"/>.</summary>
    public static IReadOnlyList<string> Import(string archive, string dir, string md5 = PublishedMd5, IReadOnlyDictionary<string, long>? files = null)
    {
        files ??= Files;
        if (!File.Exists(archive)) throw new DatasetFormatException($"{archive}: no such file");
        InputFile.CheckRegular(archive);
        long length = new FileInfo(archive).Length;
        if (length > MaxArchiveBytes) throw new DatasetFormatException($"{archive}: {length:N0} bytes, over the {MaxArchiveBytes >> 20} MiB limit of the CIFAR-10 archive");
        string actual;
        using (var s = File.OpenRead(archive)) actual = Convert.ToHexStringLower(MD5.HashData(s));
        if (actual != md5) throw new DatasetFormatException($"{archive}: MD5 {actual}, not the published {md5} of {FileName}");
        Directory.CreateDirectory(dir);
        var written = new List<string>();
        using (var file = File.OpenRead(archive))
        using (var gz = new GZipStream(file, CompressionMode.Decompress))
        using (var tar = new TarReader(gz))
        {
            try
            {
                while (tar.GetNextEntry() is { } entry)
                {
                    string name = Path.GetFileName(entry.Name);
                    bool wanted = files.ContainsKey(name) || name == CifarReader.Cifar10Meta;
                    if (!wanted || entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
                    long expected = files.TryGetValue(name, out long n) ? n : 1 << 12;
                    if (entry.Length > expected || (files.ContainsKey(name) && entry.Length != expected))
                        throw new DatasetFormatException($"{archive}: {entry.Name} is {entry.Length:N0} bytes, not {expected:N0}");
                    var bytes = new byte[entry.Length];
                    entry.DataStream.ReadExactly(bytes);
                    OutputFile.WriteAllBytes(Path.Combine(dir, name), bytes);
                    written.Add(name);
                }
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
            {
                throw new DatasetFormatException($"{archive}: damaged archive ({e.Message})");
            }
        }
        string? missing = files.Keys.Append(CifarReader.Cifar10Meta).FirstOrDefault(f => !written.Contains(f));
        if (missing is not null) throw new DatasetFormatException($"{archive}: has no {missing}");
        return written;
    }
}

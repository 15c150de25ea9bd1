using System.IO.Hashing;
using System.Security.Cryptography;

namespace Qnn.Datasets;

/// <summary>The byte copy of the fetches: one pass that hashes (SHA-256 for the check, XxHash3 for the cache manifest), copies and reports progress, with a size cap.</summary>
internal static class FetchCopy
{
    /// <summary>
    /// Reads <paramref name="data"/> to its end, hashing it with SHA-256 and XxHash3 and copying it to
    /// <paramref name="output"/> if given; past <paramref name="limit"/> bytes it stops with "<paramref name="what"/>:
    /// longer than <paramref name="limitText"/>".
    /// </summary>
    public static (long Bytes, string Sha256, string XxHash3) Hashing(Stream data, Stream? output, long length, long limit, string limitText,
        string step, string what, IProgress<FetchProgress>? progress, CancellationToken cancel)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var fast = new XxHash3();
        var buffer = new byte[1 << 20];
        long done = 0;
        int n;
        while ((n = data.Read(buffer)) > 0)
        {
            cancel.ThrowIfCancellationRequested();
            done += n;
            if (done > limit) throw new FetchException($"{what}: longer than {limitText}");
            hash.AppendData(buffer, 0, n);
            fast.Append(buffer.AsSpan(0, n));
            output?.Write(buffer, 0, n);
            progress?.Report(new FetchProgress(step, done, length));
        }
        return (done, Convert.ToHexStringLower(hash.GetHashAndReset()), Convert.ToHexStringLower(fast.GetCurrentHash()));
    }

    /// <summary>Deletes <paramref name="path"/> if it is there; a failure leaves it (the caller's error says what went wrong first).</summary>
    public static void TryDelete(string path)
    {
        try { if (File.Exists(path)) File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

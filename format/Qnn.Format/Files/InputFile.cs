namespace Qnn.Format;

/// <summary>
/// The one policy for every file qnn reads whole (models, images, raw inputs): a regular file only (a folder, FIFO,
/// device or socket gets its own one-line message naming the path: a FIFO would block forever and /dev/zero never
/// ends), read through a bounded loop that stops one byte past the cap instead of trusting the length the file
/// system reports. The caps are stated in format/SPEC.md (models) and README.md (images, raw inputs).
/// </summary>
public static class InputFile
{
    /// <summary>Throws <see cref="FilePolicyException"/> naming <paramref name="path"/> unless it is (a link to) a regular file.</summary>
    public static void CheckRegular(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new FilePolicyException("an input path is empty; give a file name");
        FileKind kind = FileKinds.Of(path, followLinks: true);
        switch (kind)
        {
            case FileKind.Regular: return;
            case FileKind.Missing: throw new FilePolicyException($"{path}: no such file");
            case FileKind.Directory: throw new FilePolicyException($"{path}: is a folder, not a file");
            default: throw new FilePolicyException($"{path}: {FileKinds.Describe(kind)}, not a regular file; qnn reads only regular files");
        }
    }

    /// <summary>
    /// Reads the whole of <paramref name="path"/>, refusing it when it has more than <paramref name="maxBytes"/> bytes;
    /// <paramref name="what"/> completes the message ("a model": "… is over the 256 MiB limit of a model").
    /// </summary>
    public static byte[] ReadAllBytes(string path, long maxBytes, string what)
    {
        CheckRegular(path);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            // A regular file's length refuses a file plainly too long at once; otherwise it only sizes the first
            // buffer: the loop below decides, and stops one byte past the cap whatever the file system said.
            long reported = stream.CanSeek ? stream.Length : 0;
            if (reported > maxBytes) throw new FilePolicyException($"{path}: {reported:N0} bytes, over the {Size(maxBytes)} limit of {what}");
            long hint = reported;
            var buffer = new byte[Math.Max(hint + 1, 4096)];
            int filled = 0;
            while (true)
            {
                if (filled == buffer.Length)
                {
                    if (filled > maxBytes) break;
                    Array.Resize(ref buffer, (int)Math.Min(Math.Max(2L * buffer.Length, 4096), maxBytes + 1));
                }
                int n = stream.Read(buffer, filled, buffer.Length - filled);
                if (n == 0) break;
                filled += n;
                if (filled > maxBytes) break;
            }
            if (filled > maxBytes)
                throw new FilePolicyException($"{path}: over the {Size(maxBytes)} limit of {what}");
            Array.Resize(ref buffer, filled);
            return buffer;
        }
        catch (Exception e) when (e is IOException and not FilePolicyException || e is UnauthorizedAccessException)
        {
            throw new FilePolicyException($"{path}: {e.Message}");
        }
    }

    /// <summary>1,024 bytes → "1 KiB", 256 MiB → "256 MiB"; other sizes in bytes.</summary>
    public static string Size(long bytes) =>
        bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? $"{bytes >> 20} MiB"
        : bytes >= 1 << 10 && bytes % (1 << 10) == 0 ? $"{bytes >> 10} KiB"
        : $"{bytes:N0} bytes";
}

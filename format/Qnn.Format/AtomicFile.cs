using System.Text;

namespace Qnn.Format;

/// <summary>
/// Writes a file through a temporary file, flushed to disk, and a rename, so that a reader (or a crash) never sees
/// half of it: models, checkpoints, logs and exports all go through here.
/// </summary>
public static class AtomicFile
{
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string tmp = full + ".tmp";
        using (var f = new FileStream(tmp, FileMode.Create, FileAccess.Write))
        {
            f.Write(bytes);
            f.Flush(true);
        }
        File.Move(tmp, full, overwrite: true);
    }

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, Encoding.UTF8.GetBytes(text));
}

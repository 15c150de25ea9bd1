namespace Qnn.Datasets;

/// <summary>
/// Opens a data set named on the command line: <c>mnist</c> (the cache filled by <c>qnn data fetch mnist</c>),
/// <c>idx:PATH</c> (a folder with the four standard IDX files, plain or .gz), <c>folder:PATH</c> (one subfolder of
/// images per class, <see cref="ImageFolder"/>), <c>cifar10[:PATH]</c> and <c>cifar100:PATH</c> (the binary versions,
/// <see cref="CifarReader"/>; without PATH the cache filled by <c>qnn data fetch cifar10 --from</c>) and
/// <c>svhn:PATH</c> (the MAT-files of the cropped digits, <see cref="SvhnReader"/>). The text corpora
/// (<c>brown</c>, <c>ptb:PATH</c>, <c>text:PATH</c>) are known names too, but opened by <see cref="TextCorpusLoader"/>.
/// </summary>
public static class DatasetLoader
{
    public static readonly string[] FileNames = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>MNIST's digits 0–9: a larger label in the cache means a damaged file.</summary>
    public const int MnistClasses = 10;

    /// <summary>The image forms of --dataset alone.</summary>
    public const string ImageForms = "mnist, idx:PATH, folder:PATH, cifar10[:PATH], cifar100:PATH or svhn:PATH";

    /// <summary>The forms of --dataset, for help texts and errors.</summary>
    public const string Forms = ImageForms + "; for language models " + TextCorpusLoader.Forms;

    /// <summary>
    /// Opens <paramref name="spec"/>; <paramref name="request"/> sets the shape an image folder is converted to (others
    /// have a fixed shape) and <paramref name="progress"/> hears about an image folder's decoding.
    /// </summary>
    public static DatasetSplit Load(string spec, ImageRequest? request = null, IProgress<FetchProgress>? progress = null)
    {
        if (TextCorpusLoader.IsText(spec))
            throw new TextCorpusException($"--dataset {spec}: a text corpus; language-model training needs --arch lstm or gru (image data sets: {ImageForms})");
        if (spec.StartsWith("folder:", StringComparison.Ordinal)) return ImageFolder.Load(spec[7..], request ?? ImageRequest.Default, progress);
        if (spec == "cifar10") return CifarReader.Load(DataCache.Cifar10Directory, hundred: false);
        if (spec.StartsWith("cifar10:", StringComparison.Ordinal)) return CifarReader.Load(spec[8..], hundred: false);
        if (spec.StartsWith("cifar100:", StringComparison.Ordinal)) return CifarReader.Load(spec[9..], hundred: true);
        if (spec.StartsWith("svhn:", StringComparison.Ordinal)) return SvhnReader.Load(spec[5..]);
        if (spec == "mnist")
        {
            string dir = DataCache.MnistDirectory;
            if (!FileNames.All(f => File.Exists(Path.Combine(dir, f))))
                throw new IdxFormatException($"MNIST is not in the cache ({dir}): run `./qnn data fetch mnist` first");
            if (MnistCacheProblem(dir) is { } problem) throw new IdxFormatException(problem);
            return LoadFolder(dir, "mnist", MnistClasses);
        }
        if (spec.StartsWith("idx:", StringComparison.Ordinal))
        {
            string dir = spec[4..];
            if (!Directory.Exists(dir)) throw new IdxFormatException($"{dir}: no such folder (--dataset idx:PATH names a folder with the four IDX files)");
            return LoadFolder(dir, Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir))));
        }
        throw new IdxFormatException($"unknown data set \"{spec}\": use {Forms}");
    }

    /// <summary>
    /// Null when the MNIST cache in <paramref name="dir"/> holds every file with the size and XxHash3 its fetch
    /// recorded (<see cref="CacheManifest"/>); otherwise one line naming the first file that does not, and the remedy.
    /// </summary>
    public static string? MnistCacheProblem(string dir)
    {
        const string remedy = "run `qnn data fetch mnist` again";
        string? missing = FileNames.FirstOrDefault(f => !File.Exists(Path.Combine(dir, f)));
        return missing is not null
            ? $"{Path.Combine(dir, missing)}: missing; {remedy}"
            : CacheManifest.Problem(dir, FileNames, remedy);
    }

    /// <summary>
    /// Loads the four IDX files of a folder (each plain or with .gz). Labels must be below <paramref name="maxClasses"/>;
    /// the training labels define the classes, and a test label outside them is an error.
    /// </summary>
    public static DatasetSplit LoadFolder(string dir, string name, int maxClasses = 256)
    {
        string Find(string file)
        {
            string plain = Path.Combine(dir, file);
            if (File.Exists(plain)) return plain;
            if (File.Exists(plain + ".gz")) return plain + ".gz";
            throw new IdxFormatException($"{plain}: missing (neither {file} nor {file}.gz is in {dir})");
        }
        var train = Part(Find(FileNames[0]), Find(FileNames[1]), name + "/train", maxClasses);
        var test = Part(Find(FileNames[2]), Find(FileNames[3]), name + "/test", maxClasses);
        if (train.Height != test.Height || train.Width != test.Width || train.Channels != test.Channels)
            throw new IdxFormatException($"{dir}: training images are {train.Height}x{train.Width}x{train.Channels}, test images {test.Height}x{test.Width}x{test.Channels}");
        int unseen = Array.FindIndex(test.Labels, l => l >= train.ClassCount);
        if (unseen >= 0)
            throw new IdxFormatException($"{Find(FileNames[3])}: label {test.Labels[unseen]} of sample {unseen} is not among the {train.ClassCount} classes of the training labels");
        return new DatasetSplit(train, WithClasses(test, train.ClassCount));
    }

    private static Dataset Part(string imagesPath, string labelsPath, string name, int maxClasses)
    {
        var (count, h, w, c, pixels) = IdxReader.ReadImages(imagesPath);
        byte[] labels = IdxReader.ReadLabels(labelsPath, maxClasses);
        if (labels.Length != count)
            throw new IdxFormatException($"{labelsPath}: {labels.Length} labels for the {count} images of {imagesPath}");
        int classes = labels.Max() + 1;
        return new Dataset { Name = name, Height = h, Width = w, Channels = c, Pixels = pixels, Labels = labels, ClassCount = Math.Max(2, classes) };
    }

    private static Dataset WithClasses(Dataset d, int classes) => new()
    {
        Name = d.Name, Height = d.Height, Width = d.Width, Channels = d.Channels, Pixels = d.Pixels, Labels = d.Labels, ClassCount = classes,
    };
}

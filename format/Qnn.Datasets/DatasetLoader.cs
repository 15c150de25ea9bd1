namespace Qnn.Datasets;

/// <summary>
/// Opens a data set named on the command line: <c>mnist</c> (the cache filled by <c>qnn data fetch mnist</c>)
/// or <c>idx:PATH</c> (a folder with the four standard IDX files, plain or .gz).
/// </summary>
public static class DatasetLoader
{
    public static readonly string[] FileNames = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    public static DatasetSplit Load(string spec)
    {
        if (spec == "mnist")
        {
            string dir = DataCache.MnistDirectory;
            if (!FileNames.All(f => File.Exists(Path.Combine(dir, f))))
                throw new IdxFormatException($"MNIST is not in the cache ({dir}): run `./qnn data fetch mnist` first");
            return LoadFolder(dir, "mnist");
        }
        if (spec.StartsWith("idx:", StringComparison.Ordinal))
        {
            string dir = spec[4..];
            if (!Directory.Exists(dir)) throw new IdxFormatException($"{dir}: no such folder (--dataset idx:PATH names a folder with the four IDX files)");
            return LoadFolder(dir, Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir))));
        }
        throw new IdxFormatException($"unknown data set \"{spec}\": use mnist or idx:PATH");
    }

    /// <summary>Loads the four IDX files of a folder (each plain or with .gz).</summary>
    public static DatasetSplit LoadFolder(string dir, string name)
    {
        string Find(string file)
        {
            string plain = Path.Combine(dir, file);
            if (File.Exists(plain)) return plain;
            if (File.Exists(plain + ".gz")) return plain + ".gz";
            throw new IdxFormatException($"{plain}: missing (neither {file} nor {file}.gz is in {dir})");
        }
        var train = Part(Find(FileNames[0]), Find(FileNames[1]), name + "/train");
        var test = Part(Find(FileNames[2]), Find(FileNames[3]), name + "/test");
        if (train.Height != test.Height || train.Width != test.Width || train.Channels != test.Channels)
            throw new IdxFormatException($"{dir}: training images are {train.Height}x{train.Width}x{train.Channels}, test images {test.Height}x{test.Width}x{test.Channels}");
        int classes = Math.Max(train.ClassCount, test.ClassCount);
        return new DatasetSplit(WithClasses(train, classes), WithClasses(test, classes));
    }

    private static Dataset Part(string imagesPath, string labelsPath, string name)
    {
        var (count, h, w, c, pixels) = IdxReader.ReadImages(imagesPath);
        byte[] labels = IdxReader.ReadLabels(labelsPath);
        if (labels.Length != count)
            throw new IdxFormatException($"{labelsPath}: {labels.Length} labels for the {count} images of {imagesPath}");
        int classes = labels.Length == 0 ? 2 : labels.Max() + 1;
        return new Dataset { Name = name, Height = h, Width = w, Channels = c, Pixels = pixels, Labels = labels, ClassCount = Math.Max(2, classes) };
    }

    private static Dataset WithClasses(Dataset d, int classes) => new()
    {
        Name = d.Name, Height = d.Height, Width = d.Width, Channels = d.Channels, Pixels = d.Pixels, Labels = d.Labels, ClassCount = classes,
    };
}

namespace Qnn.Datasets;

/// <summary>Images of one size with class labels, as read from IDX files: N × H × W × C unsigned 8-bit pixels.</summary>
public sealed class Dataset
{
    public required string Name { get; init; }
    public required int Height { get; init; }
    public required int Width { get; init; }
    public int Channels { get; init; } = 1;
    /// <summary>All pixels, sample after sample, row-major, channels innermost.</summary>
    public required byte[] Pixels { get; init; }
    public required byte[] Labels { get; init; }
    public required int ClassCount { get; init; }
    /// <summary>The name of each class (a folder's subfolder, CIFAR's meta file), or null when classes are only numbers.</summary>
    public string[]? ClassNames { get; init; }

    public int Count => Labels.Length;
    public int SampleBytes => Height * Width * Channels;

    /// <summary>The pixels of sample <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Image(int index) => Pixels.AsSpan(index * SampleBytes, SampleBytes);

    /// <summary>The first <paramref name="count"/> samples (all when count ≤ 0 or larger).</summary>
    public Dataset Take(int count) => Slice(0, count <= 0 || count > Count ? Count : count);

    /// <summary>Samples [start, start + count).</summary>
    public Dataset Slice(int start, int count) => new()
    {
        Name = Name, Height = Height, Width = Width, Channels = Channels, ClassCount = ClassCount, ClassNames = ClassNames,
        Pixels = Pixels.AsSpan(start * SampleBytes, count * SampleBytes).ToArray(),
        Labels = Labels.AsSpan(start, count).ToArray(),
    };
}

/// <summary>
/// The training and test parts of a data set, and the files that were skipped because they could not be read
/// (an image folder's unreadable images: one line each, naming the file).
/// </summary>
public sealed record DatasetSplit(Dataset Train, Dataset Test)
{
    public IReadOnlyList<string> Skipped { get; init; } = [];
}

/// <summary>A data file that is not what its data set needs; the message names the file and the problem.</summary>
public class DatasetFormatException(string message) : IOException(message);

/// <summary>
/// The image shape a caller wants from a data set that can produce any (an image folder): 0 means the data set's
/// default (the most common size; 3 channels when any image is in colour, else 1). Fixed-shape data sets ignore it.
/// </summary>
public sealed record ImageRequest(int Height = 0, int Width = 0, int Channels = 0)
{
    public static readonly ImageRequest Default = new();

    /// <summary>Parses `HxW` (each 1–4096) for --image-size; null for null or empty. Throws ArgumentException naming the option.</summary>
    public static (int Height, int Width)? ParseSize(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        string[] parts = text.Split('x', 'X');
        if (parts.Length == 2 && int.TryParse(parts[0], out int h) && int.TryParse(parts[1], out int w) && h is >= 1 and <= 4096 && w is >= 1 and <= 4096)
            return (h, w);
        throw new ArgumentException($"--image-size \"{text}\": give HxW, each side 1-4096 (e.g. 32x32)");
    }
}

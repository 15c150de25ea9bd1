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

    public int Count => Labels.Length;
    public int SampleBytes => Height * Width * Channels;

    /// <summary>The pixels of sample <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Image(int index) => Pixels.AsSpan(index * SampleBytes, SampleBytes);

    /// <summary>The first <paramref name="count"/> samples (all when count ≤ 0 or larger).</summary>
    public Dataset Take(int count) => Slice(0, count <= 0 || count > Count ? Count : count);

    /// <summary>Samples [start, start + count).</summary>
    public Dataset Slice(int start, int count) => new()
    {
        Name = Name, Height = Height, Width = Width, Channels = Channels, ClassCount = ClassCount,
        Pixels = Pixels.AsSpan(start * SampleBytes, count * SampleBytes).ToArray(),
        Labels = Labels.AsSpan(start, count).ToArray(),
    };
}

/// <summary>The training and test parts of a data set.</summary>
public sealed record DatasetSplit(Dataset Train, Dataset Test);

using System.Buffers.Binary;
using System.IO.Compression;
using Qnn.Format;

namespace Qnn.Datasets;

/// <summary>A data file that is not a valid IDX file; the message names the file and the problem.</summary>
public sealed class IdxFormatException(string message) : IOException(message);

/// <summary>
/// Reads IDX files (the MNIST format: magic 0x0000 0x08 rank, big-endian u32 dimensions, u8 data), plain or
/// gzip-compressed, checking magic, rank, dimensions and size before it allocates.
/// </summary>
public static class IdxReader
{
    /// <summary>Largest file accepted (uncompressed): 1 GiB.</summary>
    public const long MaxBytes = 1L << 30;

    /// <summary>Reads an image file (rank 3: N × H × W, or rank 4: N × H × W × C).</summary>
    public static (int Count, int Height, int Width, int Channels, byte[] Pixels) ReadImages(string path)
    {
        var (dims, data) = Read(path);
        if (dims.Length is not (3 or 4)) throw new IdxFormatException($"{path}: an image file has rank 3 or 4, this one has rank {dims.Length}");
        int channels = dims.Length == 4 ? dims[3] : 1;
        if (dims[1] < 1 || dims[2] < 1 || channels < 1) throw new IdxFormatException($"{path}: image size {dims[1]}x{dims[2]}x{channels} has a zero dimension");
        return (dims[0], dims[1], dims[2], channels, data);
    }

    /// <summary>Reads a label file (rank 1) and checks every label is below <paramref name="maxClasses"/> (a u8 label is always below 256).</summary>
    public static byte[] ReadLabels(string path, int maxClasses = 256)
    {
        var (dims, data) = Read(path);
        if (dims.Length != 1) throw new IdxFormatException($"{path}: a label file has rank 1, this one has rank {dims.Length}");
        for (int i = 0; i < data.Length; i++)
            if (data[i] >= maxClasses) throw new IdxFormatException($"{path}: label {data[i]} of sample {i} is not below {maxClasses}");
        return data;
    }

    /// <summary>Reads any unsigned-byte IDX file: its dimensions and data.</summary>
    public static (int[] Dims, byte[] Data) Read(string path)
    {
        if (!File.Exists(path)) throw new IdxFormatException($"{path}: no such file");
        InputFile.CheckRegular(path);   // a FIFO among the data files would block the open forever
        using Stream file = File.OpenRead(path);
        bool gzip = file.Length >= 2 && IsGzip(file);
        using Stream s = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
        Span<byte> head = stackalloc byte[4];
        ReadExactly(s, head, path, "magic number");
        if (head[0] != 0 || head[1] != 0)
            throw new IdxFormatException($"{path}: bad magic number {head[0]:X2}{head[1]:X2}{head[2]:X2}{head[3]:X2} (an IDX file starts with 00 00)");
        if (head[2] != 0x08) throw new IdxFormatException($"{path}: element type 0x{head[2]:X2} is not unsigned byte (0x08)");
        int rank = head[3];
        if (rank < 1 || rank > 4) throw new IdxFormatException($"{path}: rank {rank} is outside 1-4");
        var dims = new int[rank];
        long total = 1;
        Span<byte> d = stackalloc byte[4];
        for (int i = 0; i < rank; i++)
        {
            ReadExactly(s, d, path, $"dimension {i}");
            uint v = BinaryPrimitives.ReadUInt32BigEndian(d);
            if (v == 0 || v > int.MaxValue) throw new IdxFormatException($"{path}: dimension {i} is {v}");
            dims[i] = (int)v;
            total *= v;
            if (total > MaxBytes) throw new IdxFormatException($"{path}: dimensions {string.Join("x", dims.Take(i + 1))} exceed the 1 GiB limit");
        }
        if (!gzip && file.Length != 4 + 4 * rank + total)
            throw new IdxFormatException($"{path}: {file.Length} bytes, the header's dimensions {string.Join("x", dims)} need {4 + 4 * rank + total}");
        byte[] data = gzip ? ReadGrowing(s, total, path) : new byte[total];
        if (!gzip) ReadExactly(s, data, path, "data");
        if (gzip && Guard(() => s.ReadByte(), path) != -1) throw new IdxFormatException($"{path}: data continues past the {total} bytes the dimensions give");
        return (dims, data);
    }

    /// <summary>
    /// Reads <paramref name="total"/> bytes of decompressed data into an array that grows as data arrives: a small
    /// .gz whose header claims a gigabyte must really decompress to it before that much is allocated.
    /// </summary>
    private static byte[] ReadGrowing(Stream s, long total, string path)
    {
        var data = new byte[Math.Min(total, 1L << 24)];
        long done = 0;
        while (done < total)
        {
            if (done == data.Length) Array.Resize(ref data, (int)Math.Min(total, 2L * data.Length));
            int n = Guard(() => s.Read(data, (int)done, (int)(data.Length - done)), path);
            if (n == 0) throw new IdxFormatException($"{path}: truncated in the data ({done} of {total} bytes)");
            done += n;
        }
        return data;
    }

    private static int Guard(Func<int> read, string path)
    {
        try
        {
            return read();
        }
        catch (InvalidDataException e)
        {
            throw new IdxFormatException($"{path}: corrupt gzip data ({e.Message})");
        }
    }

    private static bool IsGzip(Stream s)
    {
        int a = s.ReadByte(), b = s.ReadByte();
        s.Position = 0;
        return a == 0x1F && b == 0x8B;
    }

    private static void ReadExactly(Stream s, Span<byte> buffer, string path, string what)
    {
        try
        {
            s.ReadExactly(buffer);
        }
        catch (EndOfStreamException)
        {
            throw new IdxFormatException($"{path}: truncated in the {what}");
        }
        catch (InvalidDataException e)
        {
            throw new IdxFormatException($"{path}: corrupt gzip data ({e.Message})");
        }
    }
}

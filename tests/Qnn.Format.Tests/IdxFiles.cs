using System.Buffers.Binary;
using System.IO.Compression;

namespace Qnn.Format.Tests;

/// <summary>Writes small IDX files (plain or gzip) for the reader's tests.</summary>
public static class IdxFiles
{
    public static byte[] Bytes(int[] dims, byte[] data, byte type = 0x08)
    {
        var b = new byte[4 + 4 * dims.Length + data.Length];
        b[2] = type;
        b[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4 + 4 * i), (uint)dims[i]);
        data.CopyTo(b, 4 + 4 * dims.Length);
        return b;
    }

    public static byte[] Gzip(byte[] bytes)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(bytes);
        return ms.ToArray();
    }

    /// <summary>A folder with the four standard IDX files: <paramref name="train"/> and <paramref name="test"/> images of h×w with the given labels.</summary>
    public static void WriteFolder(string dir, int h, int w, byte[] trainLabels, byte[] testLabels, bool gzip = false)
    {
        Directory.CreateDirectory(dir);
        var rng = new Random(h * 31 + w);
        void Write(string name, byte[] bytes) => File.WriteAllBytes(Path.Combine(dir, name + (gzip ? ".gz" : "")), gzip ? Gzip(bytes) : bytes);
        byte[] Pixels(int n) { var p = new byte[n * h * w]; rng.NextBytes(p); return p; }
        Write("train-images-idx3-ubyte", Bytes([trainLabels.Length, h, w], Pixels(trainLabels.Length)));
        Write("train-labels-idx1-ubyte", Bytes([trainLabels.Length], trainLabels));
        Write("t10k-images-idx3-ubyte", Bytes([testLabels.Length, h, w], Pixels(testLabels.Length)));
        Write("t10k-labels-idx1-ubyte", Bytes([testLabels.Length], testLabels));
    }
}

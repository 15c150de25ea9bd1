using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Qnn.Format;

namespace Qnn.Datasets;

/// <summary>One numeric array of a MAT-file: its name, MATLAB class, dimensions (column-major) and its real part as stored.</summary>
public sealed record MatArray(string Name, int Class, int[] Dims, int DataType, byte[] Data)
{
    public long Count => Dims.Aggregate(1L, (a, d) => a * d);

    /// <summary>Element <paramref name="i"/> of the real part as a double, whatever type the file stored it as.</summary>
    public double At(long i) => MatFile.Value(Data, DataType, i);
}

/// <summary>
/// Reads the subset of MATLAB's Level 5 MAT-file format (MathWorks, "MAT-File Format", R2024a, chapter 1) that
/// numeric data sets such as SVHN's use: the 128-byte header (116 bytes of text, 8 of subsystem offset, version
/// 0x0100, endian indicator "IM" little-endian), then data elements, each miMATRIX (14) or miCOMPRESSED (15, a zlib
/// stream holding one miMATRIX). A numeric matrix holds array flags (miUINT32 × 2, class in the low byte), dimensions
/// (miINT32), name (miINT8) and a real part of any numeric type; an element whose tag packs its size in the upper
/// 16 bits (the small data element format) is read too. Complex, sparse, cell, struct and char arrays are refused by
/// name. Every size is checked against the bytes that remain (or, compressed, against <see cref="MaxArrayBytes"/>)
/// before it is allocated; big-endian files ("MI") are refused.
/// </summary>
public static class MatFile
{
    public const int HeaderBytes = 128;
    public const int MiInt8 = 1, MiUInt8 = 2, MiInt16 = 3, MiUInt16 = 4, MiInt32 = 5, MiUInt32 = 6, MiSingle = 7, MiDouble = 9,
        MiInt64 = 12, MiUInt64 = 13, MiMatrix = 14, MiCompressed = 15;
    public const int MxDoubleClass = 6, MxSingleClass = 7, MxInt8Class = 8, MxUInt8Class = 9;

    /// <summary>Largest array (and largest decompressed element) read: 1 GiB. SVHN's train X is 225 MB, extra's 1.6 GB is refused.</summary>
    public const long MaxArrayBytes = 1L << 30;

    /// <summary>Largest file read: 2 GiB.</summary>
    public const long MaxFileBytes = 2L << 30;

    /// <summary>Reads the arrays named in <paramref name="wanted"/> (all when null), skipping the others unread.</summary>
    public static Dictionary<string, MatArray> Read(string path, IReadOnlySet<string>? wanted = null)
    {
        if (!File.Exists(path)) throw new DatasetFormatException($"{path}: no such file");
        InputFile.CheckRegular(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        long length = file.Length;
        if (length > MaxFileBytes) throw new DatasetFormatException($"{path}: {length} bytes, over the {MaxFileBytes >> 30} GiB limit of a MAT-file");
        if (length < HeaderBytes) throw new DatasetFormatException($"{path}: {length} bytes, shorter than a MAT-file's 128-byte header");
        var header = new byte[HeaderBytes];
        file.ReadExactly(header);
        if (!Encoding.ASCII.GetString(header, 0, 6).StartsWith("MATLAB", StringComparison.Ordinal))
            throw new DatasetFormatException($"{path}: not a MATLAB 5 MAT-file (the header text does not start with \"MATLAB\")");
        if (header[126] == 'M' && header[127] == 'I') throw new DatasetFormatException($"{path}: a big-endian MAT-file, not supported");
        if (header[126] != 'I' || header[127] != 'M') throw new DatasetFormatException($"{path}: bad endian indicator (bytes 126-127 are not \"IM\")");
        int version = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(124));
        if (version != 0x0100) throw new DatasetFormatException($"{path}: MAT-file version 0x{version:X4}, not 0x0100 (version 7.3 files are HDF5, not supported)");

        var arrays = new Dictionary<string, MatArray>(StringComparer.Ordinal);
        var tag = new byte[8];
        while (file.Position < length)
        {
            long at = file.Position;
            if (length - at < 8) throw new DatasetFormatException($"{path}: {length - at} stray bytes at offset {at} (a data element tag is 8 bytes)");
            file.ReadExactly(tag);
            int type = BinaryPrimitives.ReadInt32LittleEndian(tag);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(tag.AsSpan(4));
            if (size > length - file.Position)
                throw new DatasetFormatException($"{path}: the element at offset {at} declares {size} bytes, only {length - file.Position} remain");
            if (type == MiCompressed)
            {
                byte[] inflated = Inflate(file, size, path, at);
                var one = ParseElement(inflated, 0, inflated.Length, path, $"the compressed element at offset {at}", wanted, out int used);
                if (used != inflated.Length) throw new DatasetFormatException($"{path}: the compressed element at offset {at} holds {inflated.Length - used} bytes after its matrix");
                if (one is not null) arrays[one.Name] = one;
            }
            else if (type == MiMatrix)
            {
                if (size > MaxArrayBytes + 4096) throw new DatasetFormatException($"{path}: the matrix at offset {at} is {size} bytes, over the {MaxArrayBytes >> 30} GiB limit");
                var name = wanted is null ? null : PeekName(file, size);
                if (wanted is not null && (name is null || !wanted.Contains(name))) file.Seek(size, SeekOrigin.Current);
                else
                {
                    var body = new byte[8 + size];
                    tag.CopyTo(body, 0);
                    file.ReadExactly(body, 8, (int)size);
                    var one = ParseElement(body, 0, body.Length, path, $"the matrix at offset {at}", wanted, out _);
                    if (one is not null) arrays[one.Name] = one;
                }
                file.Seek(Pad8(file.Position - at) - (file.Position - at), SeekOrigin.Current);
            }
            else throw new DatasetFormatException($"{path}: data element type {type} at offset {at} is neither miMATRIX (14) nor miCOMPRESSED (15)");
        }
        return arrays;
    }

    /// <summary>The name of an uncompressed matrix, read without consuming it; null when it has none that can be read.</summary>
    private static string? PeekName(FileStream file, long size)
    {
        long start = file.Position;
        var head = new byte[(int)Math.Min(size, 512)];
        file.ReadExactly(head);
        file.Position = start;
        try
        {
            int p = 0;
            for (int i = 0; i < 2; i++) p = Next(head, p, head.Length);   // flags, dims
            var (type, n, data) = Sub(head, p, head.Length);
            return type == MiInt8 ? Encoding.ASCII.GetString(head, data, n) : null;
        }
        catch (ArgumentException) { return null; }
    }

    /// <summary>A sub-element's tag at <paramref name="p"/>: type, byte count and where its data starts.</summary>
    private static (int Type, int Bytes, int Data) Sub(byte[] b, int p, int end)
    {
        if (end - p < 8) throw new ArgumentException("truncated tag");
        uint first = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(p));
        if (first >> 16 != 0)
        {
            int n = (int)(first >> 16);
            if (n > 4) throw new ArgumentException($"small data element of {n} bytes (at most 4)");
            return ((int)(first & 0xFFFF), n, p + 4);
        }
        uint bytes = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(p + 4));
        if (bytes > end - p - 8) throw new ArgumentException($"sub-element of {bytes} bytes, only {end - p - 8} remain");
        return ((int)first, (int)bytes, p + 8);
    }

    private static MatArray? ParseElement(byte[] b, int p, int end, string path, string where, IReadOnlySet<string>? wanted, out int used)
    {
        try
        {
            var (type, size, start) = Sub(b, p, end);
            if (type != MiMatrix) throw new ArgumentException($"type {type}, not miMATRIX (14)");
            used = start + size;
            int q = start, stop = start + size;
            // Array flags: two u32, the class in the low byte of the first; bit 11 complex.
            var (ft, fn, fd) = Sub(b, q, stop);
            if (ft != MiUInt32 || fn != 8) throw new ArgumentException("array flags are not 2 × miUINT32");
            uint flags = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(fd));
            int cls = (int)(flags & 0xFF);
            bool complex = (flags & 0x800) != 0;
            q = fd + 8;
            var (dt, dn, dd) = Sub(b, q, stop);
            if (dt != MiInt32 || dn < 8 || dn % 4 != 0) throw new ArgumentException("dimensions are not two or more miINT32");
            var dims = new int[dn / 4];
            long count = 1;
            for (int i = 0; i < dims.Length; i++)
            {
                dims[i] = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(dd + 4 * i));
                if (dims[i] < 0) throw new ArgumentException($"dimension {i} is {dims[i]}");
                count *= dims[i];
                if (count > MaxArrayBytes) throw new ArgumentException($"dimensions {string.Join("x", dims.Take(i + 1))} exceed the {MaxArrayBytes >> 30} GiB limit");
            }
            q = Next(b, q, stop);
            var (nt, nn, nd) = Sub(b, q, stop);
            if (nt != MiInt8) throw new ArgumentException("the array name is not miINT8");
            string name = Encoding.ASCII.GetString(b, nd, nn);
            if (wanted is not null && !wanted.Contains(name)) return null;
            if (cls is < MxDoubleClass or > 15) throw new ArgumentException($"array \"{name}\" has MATLAB class {cls}, not a numeric array");
            if (complex) throw new ArgumentException($"array \"{name}\" is complex");
            q = Next(b, q, stop);
            var (rt, rn, rd) = Sub(b, q, stop);
            int width = Width(rt) ?? throw new ArgumentException($"array \"{name}\": real part of data type {rt}, not numeric");
            if (rn != count * width) throw new ArgumentException($"array \"{name}\": real part of {rn} bytes, its {string.Join("x", dims)} elements of {width} bytes need {count * width}");
            return new MatArray(name, cls, dims, rt, b.AsSpan(rd, rn).ToArray());
        }
        catch (ArgumentException e)
        {
            throw new DatasetFormatException($"{path}: {where}: {e.Message}");
        }
    }

    private static int Next(byte[] b, int p, int end)
    {
        var (_, n, data) = Sub(b, p, end);
        return data == p + 4 ? p + 8 : (int)Math.Min(end, data + Pad8(n));
    }

    private static long Pad8(long n) => (n + 7) & ~7L;

    /// <summary>Bytes of one value of a numeric MAT data type; null for others.</summary>
    public static int? Width(int type) => type switch
    {
        MiInt8 or MiUInt8 => 1, MiInt16 or MiUInt16 => 2, MiInt32 or MiUInt32 or MiSingle => 4, MiDouble or MiInt64 or MiUInt64 => 8, _ => null,
    };

    public static double Value(byte[] data, int type, long i)
    {
        var s = data.AsSpan();
        return type switch
        {
            MiInt8 => (sbyte)s[(int)i],
            MiUInt8 => s[(int)i],
            MiInt16 => BinaryPrimitives.ReadInt16LittleEndian(s[(int)(2 * i)..]),
            MiUInt16 => BinaryPrimitives.ReadUInt16LittleEndian(s[(int)(2 * i)..]),
            MiInt32 => BinaryPrimitives.ReadInt32LittleEndian(s[(int)(4 * i)..]),
            MiUInt32 => BinaryPrimitives.ReadUInt32LittleEndian(s[(int)(4 * i)..]),
            MiSingle => BinaryPrimitives.ReadSingleLittleEndian(s[(int)(4 * i)..]),
            MiDouble => BinaryPrimitives.ReadDoubleLittleEndian(s[(int)(8 * i)..]),
            MiInt64 => BinaryPrimitives.ReadInt64LittleEndian(s[(int)(8 * i)..]),
            MiUInt64 => BinaryPrimitives.ReadUInt64LittleEndian(s[(int)(8 * i)..]),
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
    }

    /// <summary>Decompresses a miCOMPRESSED element into an array that grows as data arrives, up to <see cref="MaxArrayBytes"/> + 4 KiB.</summary>
    private static byte[] Inflate(FileStream file, long size, string path, long at)
    {
        long end = file.Position + size;
        var limit = MaxArrayBytes + 4096;
        var data = new byte[1 << 16];
        int done = 0;
        try
        {
            using (var window = new BoundedStream(file, size))
            using (var z = new ZLibStream(window, CompressionMode.Decompress, leaveOpen: true))
            {
                int n;
                while (true)
                {
                    if (done == data.Length)
                    {
                        if (done >= limit) throw new DatasetFormatException($"{path}: the compressed element at offset {at} inflates to over {MaxArrayBytes >> 30} GiB");
                        Array.Resize(ref data, (int)Math.Min(limit, 2L * data.Length));
                    }
                    n = z.Read(data, done, data.Length - done);
                    if (n == 0) break;
                    done += n;
                }
            }
        }
        catch (InvalidDataException e)
        {
            throw new DatasetFormatException($"{path}: corrupt zlib data in the compressed element at offset {at} ({e.Message})");
        }
        file.Position = end;
        Array.Resize(ref data, done);
        return data;
    }

    /// <summary>A read-only window of <paramref name="length"/> bytes of a stream from its current position.</summary>
    private sealed class BoundedStream(Stream inner, long length) : Stream
    {
        private long _left = length;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_left <= 0) return 0;
            int n = inner.Read(buffer, offset, (int)Math.Min(count, _left));
            _left -= n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

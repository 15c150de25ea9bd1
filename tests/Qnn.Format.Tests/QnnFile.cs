using System.Buffers.Binary;
using System.IO.Hashing;

namespace Qnn.Format.Tests;

/// <summary>
/// A .qnn file taken apart into its sections and put back together with fresh CRCs and model id, so that tests can
/// craft files a normal writer never makes (newer minor version, unknown sections, hostile sizes) that still pass
/// the integrity checks and reach the check they aim at.
/// </summary>
public sealed class QnnFile
{
    public int Major = 1, Minor = 0;
    public uint Flags;
    public List<(uint Kind, byte[] Bytes)> Sections = [];

    public static QnnFile Parse(byte[] file)
    {
        var f = new QnnFile
        {
            Major = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(4)),
            Minor = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(6)),
            Flags = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(24)),
        };
        int count = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(12));
        for (int s = 0; s < count; s++)
        {
            var e = file.AsSpan(32 + 16 * s);
            int off = (int)BinaryPrimitives.ReadUInt32LittleEndian(e[4..]), len = (int)BinaryPrimitives.ReadUInt32LittleEndian(e[8..]);
            f.Sections.Add((BinaryPrimitives.ReadUInt32LittleEndian(e), file.AsSpan(off, len).ToArray()));
        }
        return f;
    }

    /// <summary>The section bytes of <paramref name="kind"/> (the first one), to patch in place.</summary>
    public byte[] Section(uint kind) => Sections.First(s => s.Kind == kind).Bytes;

    public byte[] Build()
    {
        int tableEnd = 32 + 16 * Sections.Count;
        var offsets = new List<int>();
        int pos = tableEnd;
        foreach (var s in Sections) { offsets.Add(pos); pos = (pos + s.Bytes.Length + 3) & ~3; }
        var file = new byte[pos];
        "QNNE"u8.CopyTo(file);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(4), (ushort)Major);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(6), (ushort)Minor);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(8), (uint)file.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(12), (uint)Sections.Count);
        var id = new XxHash64();
        for (int s = 0; s < Sections.Count; s++)
        {
            var (kind, bytes) = Sections[s];
            var e = file.AsSpan(32 + 16 * s);
            BinaryPrimitives.WriteUInt32LittleEndian(e, kind);
            BinaryPrimitives.WriteUInt32LittleEndian(e[4..], (uint)offsets[s]);
            BinaryPrimitives.WriteUInt32LittleEndian(e[8..], (uint)bytes.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(e[12..], System.IO.Hashing.Crc32.HashToUInt32(bytes));
            bytes.CopyTo(file, offsets[s]);
            if (kind is FormatConstants.SectionModel or FormatConstants.SectionLayer) id.Append(bytes);
        }
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(16), id.GetCurrentHashAsUInt64());
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(24), Flags);
        FixHeaderCrc(file);
        return file;
    }

    /// <summary>Recomputes the header CRC after a test patched the header or the section table.</summary>
    public static void FixHeaderCrc(byte[] file)
    {
        int count = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(12)), (uint)(file.Length - 32) / 16);
        var crc = new System.IO.Hashing.Crc32();
        crc.Append(file.AsSpan(0, 28));
        crc.Append(file.AsSpan(32, 16 * count));
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(28), crc.GetCurrentHashAsUInt32());
    }

    /// <summary>A small model of every layer kind with labels and metadata: the subject of the byte-by-byte tests.</summary>
    public static QnnModel SmallModel()
    {
        var conv = LayerFactory.Conv2D(5, 5, 1, 5, 2, 2, 1, 0, 1, 4, false, OutputKind.Thresholds, 2);
        var pool = LayerFactory.MaxPool2D(4, 4, 5, 2, 2);
        var dense = LayerFactory.Dense(2, 2, 5, 3, 2, 2, true, OutputKind.Scores, 0);
        var model = new QnnModel
        {
            InputHeight = 5, InputWidth = 5, InputChannels = 1, InputBits = 4, ClassCount = 3, PreprocessFlags = Preprocess.Invert,
            Layers = [conv, pool, dense], Labels = ["zero", "un", "два"],
            MetadataKeys = ["dataset", "seed"], MetadataValues = ["test", "42"],
        };
        var rng = new Random(1);
        foreach (var l in model.Layers) Qnn.Format.RandomLayers.Fill(rng, l);
        return model;
    }
}

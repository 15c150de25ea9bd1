using System.Buffers.Binary;

namespace Qnn.Format.Tests;

/// <summary>
/// The reader on damaged and hostile files: every one is a <see cref="QnnFormatException"/> with its own message,
/// never another exception type, and nothing large is allocated for a size a file merely claims.
/// </summary>
public class ReaderRejectsTests
{
    private static readonly byte[] Small = ModelWriter.Write(QnnFile.SmallModel());

    private static readonly int SectionsEnd = Enumerable.Range(0, (int)BinaryPrimitives.ReadUInt32LittleEndian(Small.AsSpan(12)))
        .Max(s => BinaryPrimitives.ReadInt32LittleEndian(Small.AsSpan(36 + 16 * s)) + BinaryPrimitives.ReadInt32LittleEndian(Small.AsSpan(40 + 16 * s)));

    private static QnnModel ReadBoth(byte[] bytes)
    {
        ModelReader.Read(new ArraySource(bytes), loadLayers: false);
        return ModelFile.Parse(bytes, "small.qnn");
    }

    [Fact]
    public void Every_truncation_of_a_small_model_is_rejected()
    {
        for (int n = 0; n < Small.Length; n++)
        {
            byte[] cut = Small[..n];
            var e = Assert.Throws<QnnFormatException>(() => ReadBoth(cut));
            Assert.Contains("truncated", e.Message);
            if (n < 32) continue;
            // The same cut with the size field and header CRC made consistent: a section now lies outside the file,
            // unless the cut only took the zero padding after the last section, which leaves the same model.
            BinaryPrimitives.WriteUInt32LittleEndian(cut.AsSpan(8), (uint)n);
            QnnFile.FixHeaderCrc(cut);
            if (n >= SectionsEnd) Assert.Equal(Small, ModelWriter.Write(ReadBoth(cut)));
            else Assert.Throws<QnnFormatException>(() => ReadBoth(cut));
        }
    }

    [Fact]
    public void Every_flipped_bit_of_a_small_model_is_rejected_unless_it_lies_in_padding_no_section_covers()
    {
        var covered = new bool[Small.Length];
        int sections = (int)BinaryPrimitives.ReadUInt32LittleEndian(Small.AsSpan(12));
        for (int i = 0; i < 32 + 16 * sections; i++) covered[i] = true;
        for (int s = 0; s < sections; s++)
        {
            int off = (int)BinaryPrimitives.ReadUInt32LittleEndian(Small.AsSpan(36 + 16 * s));
            int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(Small.AsSpan(40 + 16 * s));
            for (int i = off; i < off + len; i++) covered[i] = true;
        }
        Assert.InRange(covered.Count(c => !c), 1, 3 * sections); // the labels section's padding is the uncovered part

        for (int i = 0; i < Small.Length; i++)
            for (int bit = 0; bit < 8; bit++)
            {
                byte[] bad = (byte[])Small.Clone();
                bad[i] ^= (byte)(1 << bit);
                if (covered[i])
                {
                    Assert.Throws<QnnFormatException>(() => ReadBoth(bad));
                }
                else
                {
                    // Zero padding between sections carries no meaning and no CRC: the model must read exactly as before.
                    Assert.Equal(Small, ModelWriter.Write(ReadBoth(bad)));
                }
            }
    }

    /// <summary>Hostile and damaged files, each made to pass the checks before the one it aims at.</summary>
    public static TheoryData<string, Func<byte[]>, string> Hostile()
    {
        static byte[] Patch(Action<QnnFile> change) { var f = QnnFile.Parse(Small); change(f); return f.Build(); }
        static byte[] Raw(Action<byte[]> change) { var b = (byte[])Small.Clone(); change(b); QnnFile.FixHeaderCrc(b); return b; }
        static void U16(byte[] b, int at, int v) => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(at), (ushort)v);
        static void U32(byte[] b, int at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), v);
        const int L0 = 16, L1 = 16 + 64, L2 = 16 + 128;   // layer records in the MODEL section
        return new()
        {
            { "wrong magic", () => Raw(b => b[0] = (byte)'X'), "not a .qnn model: wrong magic" },
            { "newer major", () => Patch(f => f.Major = 2), "unsupported major version 2 (reader supports 1)" },
            { "size field over the limit", () => Raw(b => U32(b, 8, 300u << 20)), "file size 314572800 is over the limit of 256 MiB" },
            { "padded file", () => { var b = Small.Concat(new byte[4]).ToArray(); QnnFile.FixHeaderCrc(b); return b; }, "truncated or padded file" },
            { "too many sections", () => Raw(b => U32(b, 12, 71)), "section count 71 is outside 2-70" },
            { "huge section count", () => Raw(b => U32(b, 12, uint.MaxValue)), "section count 4294967295 is outside 2-70" },
            { "bad header CRC", () => { var b = (byte[])Small.Clone(); b[24] ^= 1; return b; }, "header CRC mismatch" },
            { "section past the end", () => Raw(b => U32(b, 32 + 16 + 8, 0x7FFFFFF0)), "lie outside the file" },
            { "misaligned section", () => Raw(b => U32(b, 32 + 16 + 4, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(32 + 16 + 4)) + 2)), "is not a multiple of 4" },
            { "overlapping sections", () => Raw(b => U32(b, 32 + 48 + 4, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(32 + 16 + 4)))), "overlaps" },
            { "bad section CRC", () => Raw(b => b[BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(32 + 16 + 4))] ^= 1), "section 1 (LAYER): CRC mismatch" },
            { "unknown required section", () => Patch(f => f.Sections.Add((0x77, [1, 2, 3, 4]))), "unknown required section kind 0x00000077" },
            { "second MODEL section", () => Patch(f => f.Sections.Add(f.Sections[0])), "a second MODEL section" },
            { "missing LAYER section", () => Patch(f => f.Sections.RemoveAt(3)), "the layer table has 3 layers but the file has 2 LAYER sections" },
            { "MODEL not first", () => Patch(f => (f.Sections[0], f.Sections[1]) = (f.Sections[1], f.Sections[0])), "the first section must be MODEL" },
            { "input height over the limit", () => Patch(f => U16(f.Section(1), 0, 5000)), "input height 5000 is outside 1-4096" },
            { "class count under the limit", () => Patch(f => U16(f.Section(1), 8, 1)), "class count 1 is outside 2-65535" },
            { "layer count over the limit", () => Patch(f => U16(f.Section(1), 10, 65)), "layer count 65 is outside 1-64" },
            { "bad record size", () => Patch(f => U16(f.Section(1), 12, 63)), "layer record size 63 is not a multiple of 4 in 64-1024" },
            { "unknown layer kind", () => Patch(f => f.Section(1)[L1] = 9), "layer 1: unknown layer kind 9 (newer format?)" },
            { "unknown output kind", () => Patch(f => f.Section(1)[L0 + 4] = 7), "layer 0: unknown output kind 7 (newer format?)" },
            { "kernel over the limit", () => Patch(f => f.Section(1)[L0 + 20] = 65), "kernel height 65 is outside 1-64" },
            { "weight block over the limit", () => Patch(f =>
                {   // 65535 filters of 8 planes of 2x2 kernel positions of 2048 words each: 4 Gi words, claimed by 200 bytes
                    var m = f.Section(1);
                    U16(m, 4, 65535); U16(m, L0 + 12, 65535); U16(m, L0 + 18, 65535); m[L0 + 1] = 8;
                }), "weight block is over the limit of 16 Mi words" },
            { "activation over the limit", () => Patch(f =>
                {   // a 4096x4096 input of 8 planes: 128 Mi words
                    var m = f.Section(1);
                    U16(m, 0, 4096); U16(m, 2, 4096); m[6] = 8; U16(m, L0 + 8, 4096); U16(m, L0 + 10, 4096);
                    m[L0 + 2] = 8; U16(m, L0 + 14, 4095); U16(m, L0 + 16, 4095); U32(m, L0 + 32, 20);
                }), "an activation tensor is over the limit of 16 Mi words" },
            { "accumulator bound", () => Patch(f =>
                {
                    var m = f.Section(1);
                    U16(m, 4, 60000); m[6] = 8; U16(m, L0 + 12, 60000); m[L0 + 1] = 8; m[L0 + 2] = 8; U32(m, L0 + 32, 5 * 8 * 4 * 1875);
                }), "accumulator bound KH*KW*C*(2^m-1)*(2^k-1) reaches 2^30" },
            { "weight words not what the shape implies", () => Patch(f => U32(f.Section(1), L0 + 32, uint.MaxValue)), "weight words, the shape implies 20" },
            { "shapes of consecutive layers differ", () => Patch(f => U16(f.Section(1), L2 + 12, 6)), "differs from the previous layer's output" },
            { "LAYER section of the wrong length", () => Patch(f => f.Sections[1] = (2, [.. f.Sections[1].Bytes, 0, 0, 0, 0])), "LAYER section has 148 bytes, the record implies 144" },
            { "weight bits past the channels", () => Patch(f => f.Sections[1].Bytes[0] |= 0x80), "weight word 0 has bits set past channel 1" },
            { "thresholds out of order", () => Patch(f =>
                {
                    var t = f.Sections[1].Bytes.AsSpan(20 * 4);
                    BinaryPrimitives.WriteInt32LittleEndian(t, 5); BinaryPrimitives.WriteInt32LittleEndian(t[4..], -5); BinaryPrimitives.WriteInt32LittleEndian(t[8..], 5);
                }), "thresholds of channel 0 are not" },
            { "score shift over the limit", () => Patch(f => BinaryPrimitives.WriteInt32LittleEndian(f.Sections[3].Bytes.AsSpan(f.Sections[3].Bytes.Length - 12), 17)), "score shift 17 of class 0 is outside 0-16" },
            { "label over 63 bytes", () => Patch(f => f.Section(FormatConstants.SectionLabels)[0] = 200), "LABELS section: label 0 is 200 bytes, over the limit of 63" },
            { "labels cut short", () => Patch(f => f.Sections[4] = (FormatConstants.SectionLabels, f.Sections[4].Bytes[..^2])), "LABELS section: truncated at label 2" },
            { "metadata entry count", () => Patch(f => U32(f.Section(FormatConstants.SectionMetadata), 0, uint.MaxValue)), "METADATA section: 4294967295 entries, over the limit of 256" },
            { "metadata text past the end", () => Patch(f => U16(f.Section(FormatConstants.SectionMetadata), 4, 60000)), "METADATA section: truncated at entry 0" },
            { "metadata over 64 KiB", () => Patch(f => f.Sections[5] = (FormatConstants.SectionMetadata, [.. f.Sections[5].Bytes, .. new byte[65536]])), "over the 64 KiB limit" },
            { "model id differs", () => Raw(b => b[16] ^= 1), "model id mismatch" },
        };
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Hostile_and_damaged_files_get_their_own_message_and_allocate_little(string what, Func<byte[]> craft, string message)
    {
        byte[] bytes = craft();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<QnnFormatException>(() => ModelFile.Parse(bytes, "hostile.qnn"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.StartsWith("hostile.qnn: ", e.Message);
        Assert.True(e.Message.Contains(message, StringComparison.Ordinal), $"{what}: \"{e.Message}\" does not say \"{message}\"");
        Assert.True(allocated < 4 * bytes.Length + (256 << 10), $"{what}: the reader allocated {allocated} bytes for a {bytes.Length}-byte file");
    }

    [Fact]
    public void Hostile_cases_all_have_different_messages()
    {
        var messages = Hostile().Select(row => (string)row[2]).ToList();
        Assert.Equal(messages.Count, messages.Distinct().Count());
    }

    [Fact]
    public void A_newer_minor_version_with_larger_records_flags_and_an_unknown_optional_section_is_read()
    {
        var f = QnnFile.Parse(Small);
        f.Minor = 3;
        f.Flags = 0xFFFF0000;
        var model = f.Section(FormatConstants.SectionModel);
        int layers = BinaryPrimitives.ReadUInt16LittleEndian(model.AsSpan(10));
        const int R = 80;
        var wide = new byte[16 + R * layers];
        model.AsSpan(0, 16).CopyTo(wide);
        BinaryPrimitives.WriteUInt16LittleEndian(wide.AsSpan(12), R);
        for (int i = 0; i < layers; i++)
        {
            model.AsSpan(16 + 64 * i, 64).CopyTo(wide.AsSpan(16 + R * i));
            wide.AsSpan(16 + R * i + 64, R - 64).Fill(0xA5);   // fields of the newer minor version: skipped
        }
        f.Sections[0] = (FormatConstants.SectionModel, wide);
        f.Sections.Insert(2, (0x80000077, [9, 9, 9, 9, 9]));
        byte[] newer = f.Build();

        var back = ModelFile.Parse(newer, "newer.qnn");
        Assert.Equal((1, 3), (back.VersionMajor, back.VersionMinor));
        Assert.Equal(Small, ModelWriter.Write(back));   // the same model, written again as v1.1
    }

    [Fact]
    public void An_input_signed_field_other_than_0_or_1_is_refused()
    {
        var f = QnnFile.Parse(Small);
        f.Section(FormatConstants.SectionModel)[16 + 64 * 2 + 3] = 7;   // the dense layer reads signed input (1)
        var e = Assert.Throws<QnnFormatException>(() => ModelFile.Parse(f.Build(), "small.qnn"));
        Assert.Equal("small.qnn: layer 2: input signed 7 is neither 0 (unsigned) nor 1 (signed)", e.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF }, "a byte that starts no sequence")]
    [InlineData(new byte[] { 0xC0, 0x80 }, "an overlong NUL")]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, "a surrogate")]
    [InlineData(new byte[] { 0xE2, 0x82 }, "a sequence cut short")]
    public void A_label_that_is_not_valid_UTF8_is_refused(byte[] label, string what)
    {
        var f = QnnFile.Parse(Small);
        int at = f.Sections.FindIndex(s => s.Kind == FormatConstants.SectionLabels);
        byte[] labels = [(byte)label.Length, .. label, 2, .. "un"u8, 6, .. "два"u8];
        f.Sections[at] = (FormatConstants.SectionLabels, labels);
        var e = Assert.Throws<QnnFormatException>(() => ModelFile.Parse(f.Build(), "small.qnn"));
        Assert.True(e.Message == "small.qnn: LABELS section: label 0 is not valid UTF-8", what + ": " + e.Message);
        Assert.True(Utf8.IsValid("zero, un, два, 😀"u8.ToArray(), 0, "zero, un, два, 😀"u8.Length));
    }

    [Fact]
    public void A_section_at_offset_0_is_said_to_lie_in_the_header()
    {
        byte[] bad = (byte[])Small.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(bad.AsSpan(32 + 16 + 4), 0);
        QnnFile.FixHeaderCrc(bad);
        var e = Assert.Throws<QnnFormatException>(() => ModelFile.Parse(bad, "small.qnn"));
        Assert.Matches(@"^small\.qnn: section 1 \(LAYER\): offset 0 lies inside the file header and section table \(the first \d+ bytes\)$", e.Message);
    }

    /// <summary>
    /// The reproduction of issue 12: an 18 KB conv model within every size limit (1024 × 1024 input, one 64 × 64
    /// filter, "same" padding) needs 4.3 G MACs per image, minutes on the portable interpreter.
    /// </summary>
    public static QnnModel WorkBomb()
    {
        var conv = LayerFactory.Conv2D(1024, 1024, 1, 1, 64, 64, 1, 32, 1, 8, false, OutputKind.Thresholds, 1, pool: 64, poolStride: 64);
        var dense = LayerFactory.Dense(conv.OutH, conv.OutW, 1, 2, 1, 1, true, OutputKind.Scores, 0);
        var model = new QnnModel { InputHeight = 1024, InputWidth = 1024, InputChannels = 1, InputBits = 8, ClassCount = 2, Layers = [conv, dense] };
        var rng = new Random(3);
        foreach (var l in model.Layers) RandomLayers.Fill(rng, l);
        return model;
    }

    [Fact]
    public void A_model_over_the_compute_cap_is_refused_and_one_under_it_is_read()
    {
        var bomb = WorkBomb();
        Assert.Equal(1025L * 1025 * 64 * 64, bomb.Layers[0].Macs);
        var e = Assert.Throws<QnnFormatException>(() => ModelWriter.Write(bomb));
        Assert.Equal("layer 0 (Conv2D): the model needs 4303360000 MACs per inference up to this layer, over the limit of 2^31", e.Message);

        // The same file with the kernel's MACs under the cap (a 32 x 32 kernel, stride 2: 1.1 G MACs) is read.
        var lighter = LayerFactory.Conv2D(1024, 1024, 1, 1, 32, 32, 2, 16, 1, 8, false, OutputKind.Thresholds, 1, pool: 32, poolStride: 32);
        var dense = LayerFactory.Dense(lighter.OutH, lighter.OutW, 1, 2, 1, 1, true, OutputKind.Scores, 0);
        var ok = new QnnModel { InputHeight = 1024, InputWidth = 1024, InputChannels = 1, InputBits = 8, ClassCount = 2, Layers = [lighter, dense] };
        var rng = new Random(4);
        foreach (var l in ok.Layers) RandomLayers.Fill(rng, l);
        Assert.InRange(ok.Layers.Sum(l => l.Macs), 1L << 28, FormatConstants.MaxMacs - 1);
        Assert.Equal(ok.Layers.Sum(l => l.Macs), ReadBoth(ModelWriter.Write(ok)).Layers.Sum(l => l.Macs));
    }
}

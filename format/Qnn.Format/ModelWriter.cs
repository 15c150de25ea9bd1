using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Qnn.Format;

/// <summary>Writes a <see cref="QnnModel"/> as a v1.1 .qnn file (format/SPEC.md section 2).</summary>
public static class ModelWriter
{
    /// <summary>Checks the model with the reader's rules and returns the file's bytes. Sets <see cref="QnnModel.ModelId"/>.</summary>
    public static byte[] Write(QnnModel model)
    {
        foreach (LayerSpec l in model.Layers) l.DeclaredWeightWords = l.Kind == LayerKind.MaxPool2D ? 0 : l.WeightWords;
        ModelValidator.Check(model);
        var sections = new List<(uint Kind, byte[] Bytes)> { (FormatConstants.SectionModel, ModelSection(model)) };
        for (int i = 0; i < model.Layers.Length; i++)
            sections.Add((FormatConstants.SectionLayer, LayerSection(model.Layers[i], i)));
        if (model.Labels is { } labels) sections.Add((FormatConstants.SectionLabels, LabelsSection(labels, model.ClassCount)));
        if (model.MetadataKeys.Length > 0) sections.Add((FormatConstants.SectionMetadata, MetadataSection(model)));

        var id = new XxHash64();
        foreach (var s in sections)
            if (s.Kind == FormatConstants.SectionModel || s.Kind == FormatConstants.SectionLayer) id.Append(s.Bytes);
        model.ModelId = id.GetCurrentHashAsUInt64();

        int tableEnd = FormatConstants.HeaderBytes + FormatConstants.SectionEntryBytes * sections.Count;
        var offsets = new int[sections.Count];
        long pos = tableEnd;
        for (int s = 0; s < sections.Count; s++)
        {
            offsets[s] = (int)pos;
            pos = Align4(pos + sections[s].Bytes.Length);
        }
        if (pos > FormatConstants.MaxFileBytes) throw new QnnFormatException($"model of {pos} bytes is over the 256 MiB limit");
        var file = new byte[pos];
        Span<byte> f = file;
        f[0] = 0x51; f[1] = 0x4E; f[2] = 0x4E; f[3] = 0x45;
        BinaryPrimitives.WriteUInt16LittleEndian(f[4..], (ushort)FormatConstants.VersionMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(f[6..], (ushort)FormatConstants.VersionMinor);
        BinaryPrimitives.WriteUInt32LittleEndian(f[8..], (uint)file.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(f[12..], (uint)sections.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(f[16..], model.ModelId);
        for (int s = 0; s < sections.Count; s++)
        {
            var e = f[(FormatConstants.HeaderBytes + FormatConstants.SectionEntryBytes * s)..];
            BinaryPrimitives.WriteUInt32LittleEndian(e, sections[s].Kind);
            BinaryPrimitives.WriteUInt32LittleEndian(e[4..], (uint)offsets[s]);
            BinaryPrimitives.WriteUInt32LittleEndian(e[8..], (uint)sections[s].Bytes.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(e[12..], System.IO.Hashing.Crc32.HashToUInt32(sections[s].Bytes));
            sections[s].Bytes.CopyTo(f[offsets[s]..]);
        }
        var headerCrc = new System.IO.Hashing.Crc32();
        headerCrc.Append(f[..28]);
        headerCrc.Append(f[FormatConstants.HeaderBytes..tableEnd]);
        BinaryPrimitives.WriteUInt32LittleEndian(f[28..], headerCrc.GetCurrentHashAsUInt32());
        return file;
    }

    /// <summary>Writes the model to <paramref name="path"/> by the output policy (<see cref="OutputFile"/>).</summary>
    public static void WriteFile(QnnModel model, string path) => OutputFile.WriteAllBytes(path, Write(model));

    /// <summary>XxHash64 model id of a file's MODEL and LAYER sections, recomputed from its bytes (SPEC 2.6).</summary>
    public static ulong ComputeModelId(byte[] file)
    {
        var id = new XxHash64();
        int count = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(12));
        for (int s = 0; s < count; s++)
        {
            var e = file.AsSpan(FormatConstants.HeaderBytes + FormatConstants.SectionEntryBytes * s);
            uint kind = BinaryPrimitives.ReadUInt32LittleEndian(e);
            int off = (int)BinaryPrimitives.ReadUInt32LittleEndian(e[4..]);
            int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(e[8..]);
            if (kind == FormatConstants.SectionModel || kind == FormatConstants.SectionLayer) id.Append(file.AsSpan(off, len));
        }
        return id.GetCurrentHashAsUInt64();
    }

    private static long Align4(long n) => (n + 3) & ~3L;

    private static byte[] ModelSection(QnnModel m)
    {
        var b = new byte[FormatConstants.ModelHeaderBytes + FormatConstants.LayerRecordBytes * m.Layers.Length];
        Span<byte> s = b;
        BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)m.InputHeight);
        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], (ushort)m.InputWidth);
        BinaryPrimitives.WriteUInt16LittleEndian(s[4..], (ushort)m.InputChannels);
        s[6] = (byte)m.InputBits;
        s[7] = (byte)m.PreprocessFlags;
        BinaryPrimitives.WriteUInt16LittleEndian(s[8..], (ushort)m.ClassCount);
        BinaryPrimitives.WriteUInt16LittleEndian(s[10..], (ushort)m.Layers.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(s[12..], FormatConstants.LayerRecordBytes);
        for (int i = 0; i < m.Layers.Length; i++)
        {
            LayerSpec l = m.Layers[i];
            var r = s[(FormatConstants.ModelHeaderBytes + FormatConstants.LayerRecordBytes * i)..];
            r[0] = (byte)l.Kind; r[1] = (byte)l.WeightBits; r[2] = (byte)l.InputBits; r[3] = (byte)(l.InputSigned ? 1 : 0);
            r[4] = (byte)l.Output; r[5] = (byte)l.OutputBits;
            ushort[] dims = [(ushort)l.InH, (ushort)l.InW, (ushort)l.InC, (ushort)l.OutH, (ushort)l.OutW, (ushort)l.OutC];
            for (int d = 0; d < dims.Length; d++) BinaryPrimitives.WriteUInt16LittleEndian(r[(8 + 2 * d)..], dims[d]);
            byte[] small = [(byte)l.KernelH, (byte)l.KernelW, (byte)l.StrideH, (byte)l.StrideW, (byte)l.PadTop, (byte)l.PadLeft,
                (byte)l.PadBottom, (byte)l.PadRight, (byte)l.PoolH, (byte)l.PoolW, (byte)l.PoolStrideH, (byte)l.PoolStrideW];
            small.CopyTo(r[20..]);
            BinaryPrimitives.WriteUInt32LittleEndian(r[32..], (uint)l.DeclaredWeightWords);
            r[36] = (byte)l.GateBits;
            r[37] = (byte)l.CellBits;
        }
        return b;
    }

    private static byte[] LayerSection(LayerSpec l, int index)
    {
        var b = new byte[l.DataBytes];
        if (l.Kind == LayerKind.MaxPool2D) return b;
        string at = $"layer {index} ({ModelValidator.KindName(l.Kind)})";
        var w = l.Weights ?? throw new QnnFormatException($"{at}: no weights");
        if (w.Length != l.WeightWords) throw new QnnFormatException($"{at}: {w.Length} weight words, the shape needs {l.WeightWords}");
        var s = b.AsSpan();
        int pos = 0;
        if (l.IsSequenceLayer)
        {
            ModelValidator.CheckSequenceWeightPadding(l, index, w);
            foreach (uint x in w) { BinaryPrimitives.WriteUInt32LittleEndian(s[pos..], x); pos += 4; }
            if (l.Kind == LayerKind.Embedding) return b;
            var gates = l.Thresholds ?? throw new QnnFormatException($"{at}: no gate thresholds");
            var gateFlip = l.Flip ?? new uint[l.GateFlipWords];
            l.Flip = gateFlip;
            var state = l.StateThresholds ?? throw new QnnFormatException($"{at}: no cell/tanh/hidden thresholds");
            if (gates.Length != l.GateThresholdCount || gateFlip.Length != l.GateFlipWords || state.Length != l.StateThresholdCount)
                throw new QnnFormatException($"{at}: threshold arrays do not match {l.GateChannels} gate channels ({l.GateThresholdCount} gate thresholds, {l.GateFlipWords} flip words, {l.StateThresholdCount} per-layer thresholds)");
            ModelValidator.CheckRecurrentThresholds(l, index);
            foreach (int x in gates) { BinaryPrimitives.WriteInt32LittleEndian(s[pos..], x); pos += 4; }
            foreach (uint x in gateFlip) { BinaryPrimitives.WriteUInt32LittleEndian(s[pos..], x); pos += 4; }
            foreach (int x in state) { BinaryPrimitives.WriteInt32LittleEndian(s[pos..], x); pos += 4; }
            return b;
        }
        ModelValidator.CheckWeightPadding(l, index, w);
        foreach (uint x in w) { BinaryPrimitives.WriteUInt32LittleEndian(s[pos..], x); pos += 4; }
        if (l.Output == OutputKind.Thresholds)
        {
            var t = l.Thresholds ?? throw new QnnFormatException($"{at}: no thresholds");
            var flip = l.Flip ?? new uint[l.OutChannelWords];
            l.Flip = flip;
            if (t.Length != l.OutC * l.Levels || flip.Length != l.OutChannelWords)
                throw new QnnFormatException($"{at}: threshold arrays do not match {l.OutC} channels of {l.Levels} levels");
            ModelValidator.CheckThresholds(l, index);
            foreach (int x in t) { BinaryPrimitives.WriteInt32LittleEndian(s[pos..], x); pos += 4; }
            foreach (uint x in flip) { BinaryPrimitives.WriteUInt32LittleEndian(s[pos..], x); pos += 4; }
        }
        else
        {
            var o = l.Offsets ?? throw new QnnFormatException($"{at}: no score offsets");
            var sh = l.Shifts ?? new int[l.OutC];
            l.Shifts = sh;
            if (o.Length != l.OutC || sh.Length != l.OutC) throw new QnnFormatException($"{at}: score arrays do not match {l.OutC} classes");
            ModelValidator.CheckScores(l, index);
            foreach (int x in o) { BinaryPrimitives.WriteInt32LittleEndian(s[pos..], x); pos += 4; }
            foreach (int x in sh) { BinaryPrimitives.WriteInt32LittleEndian(s[pos..], x); pos += 4; }
        }
        return b;
    }

    private static byte[] LabelsSection(string[] labels, int classCount)
    {
        if (labels.Length != classCount) throw new QnnFormatException($"{labels.Length} labels for {classCount} classes");
        var ms = new MemoryStream();
        foreach (string label in labels)
        {
            byte[] u = Encoding.UTF8.GetBytes(label);
            if (u.Length > FormatConstants.MaxLabelBytes) throw new QnnFormatException($"label \"{label}\" is over 63 UTF-8 bytes");
            ms.WriteByte((byte)u.Length);
            ms.Write(u);
        }
        return ms.ToArray();
    }

    private static byte[] MetadataSection(QnnModel m)
    {
        if (m.MetadataKeys.Length != m.MetadataValues.Length) throw new QnnFormatException("metadata keys and values differ in count");
        if (m.MetadataKeys.Length > FormatConstants.MaxMetadataEntries) throw new QnnFormatException("more than 256 metadata entries");
        var ms = new MemoryStream();
        var bw = new BinaryWriter(ms);
        bw.Write((uint)m.MetadataKeys.Length);
        for (int i = 0; i < m.MetadataKeys.Length; i++)
            foreach (string text in new[] { m.MetadataKeys[i], m.MetadataValues[i] })
            {
                byte[] u = Encoding.UTF8.GetBytes(text);
                if (u.Length > ushort.MaxValue) throw new QnnFormatException($"metadata entry {m.MetadataKeys[i]} is too long");
                bw.Write((ushort)u.Length);
                bw.Write(u);
            }
        bw.Flush();
        if (ms.Length > FormatConstants.MaxMetadataBytes) throw new QnnFormatException("metadata is over 64 KiB");
        return ms.ToArray();
    }
}

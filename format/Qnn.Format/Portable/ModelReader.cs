using System;

namespace Qnn.Format
{
    /// <summary>
    /// Reads and checks a .qnn file (format/SPEC.md) in the portable C# subset that .NET nanoFramework runs.
    /// Every limit of SPEC section 4 is checked before anything is allocated for layer data, and every error is
    /// a <see cref="QnnFormatException"/> naming the section, layer and field.
    /// </summary>
    public static class ModelReader
    {
        /// <summary>Reads a whole model, layer data included.</summary>
        public static QnnModel Read(ByteSource source)
        {
            return Read(source, true);
        }

        /// <summary>
        /// Reads header, layer table, labels and metadata and checks every CRC. With <paramref name="loadLayers"/>
        /// false the layer data stays in the file (for devices that stream weights layer by layer); its CRC is
        /// still checked, in chunks of 256 bytes.
        /// </summary>
        public static QnnModel Read(ByteSource source, bool loadLayers)
        {
            SectionTable t = ReadSectionTable(source);
            if (t.Kinds[0] != FormatConstants.SectionModel)
                throw new QnnFormatException("the first section must be MODEL (kind 1), found kind 0x" + t.Kinds[0].ToString("X8"));

            QnnModel model = new QnnModel();
            model.SectionCount = t.Count;
            model.VersionMajor = t.Major;
            model.VersionMinor = t.Minor;
            model.ModelId = t.ModelId;
            byte[] modelBytes = ReadSection(source, 0, t.Kinds[0], t.Offsets[0], t.Lengths[0], t.Crcs[0]);
            ParseModelSection(model, modelBytes);
            ReadSections(source, t, model, loadLayers);
            return model;
        }

        /// <summary>The header and the section table, checked (SPEC 2 and 3): magic, version, size, CRC, bounds, overlaps.</summary>
        private sealed class SectionTable
        {
            public readonly int Count, Major, Minor;
            public readonly ulong ModelId;
            public readonly uint[] Kinds, Crcs;
            public readonly int[] Offsets, Lengths;

            public SectionTable(int count, int major, int minor, ulong modelId, uint[] kinds, int[] offsets, int[] lengths, uint[] crcs)
            {
                Count = count;
                Major = major;
                Minor = minor;
                ModelId = modelId;
                Kinds = kinds;
                Offsets = offsets;
                Lengths = lengths;
                Crcs = crcs;
            }
        }

        private static SectionTable ReadSectionTable(ByteSource source)
        {
            int fileLength = source.Length;
            if (fileLength < FormatConstants.HeaderBytes)
                throw new QnnFormatException("truncated file: " + fileLength.ToString() + " bytes, the header alone is 32");
            byte[] header = new byte[FormatConstants.HeaderBytes];
            source.ReadAt(0, header, 0, FormatConstants.HeaderBytes);
            if (header[0] != 0x51 || header[1] != 0x4E || header[2] != 0x4E || header[3] != 0x45)
                throw new QnnFormatException("not a .qnn model: wrong magic (expected \"QNNE\")");
            int major = U16(header, 4);
            int minor = U16(header, 6);
            if (major != FormatConstants.VersionMajor)
                throw new QnnFormatException("unsupported major version " + major.ToString() + " (reader supports " + FormatConstants.VersionMajor.ToString() + ")");
            uint declaredSize = U32(header, 8);
            if (declaredSize > FormatConstants.MaxFileBytes)
                throw new QnnFormatException("file size " + declaredSize.ToString() + " is over the limit of 256 MiB");
            if (declaredSize != (uint)fileLength)
                throw new QnnFormatException("truncated or padded file: header says " + declaredSize.ToString() + " bytes, file has " + fileLength.ToString());
            uint sectionCount = U32(header, 12);
            if (sectionCount < FormatConstants.MinSections || sectionCount > FormatConstants.MaxSections)
                throw new QnnFormatException("section count " + sectionCount.ToString() + " is outside 2-70");
            int count = (int)sectionCount;
            int tableBytes = count << 4;
            if (FormatConstants.HeaderBytes + tableBytes > fileLength)
                throw new QnnFormatException("truncated file: the section table runs past the end");
            byte[] table = new byte[tableBytes];
            source.ReadAt(FormatConstants.HeaderBytes, table, 0, tableBytes);
            Crc32 headerCrc = new Crc32();
            headerCrc.Append(header, 0, 28);
            headerCrc.Append(table, 0, tableBytes);
            uint storedHeaderCrc = U32(header, 28);
            if (headerCrc.Value != storedHeaderCrc)
                throw new QnnFormatException("header CRC mismatch (stored 0x" + storedHeaderCrc.ToString("X8") + ", computed 0x" + headerCrc.Value.ToString("X8") + ")");

            uint[] kinds = new uint[count];
            int[] offsets = new int[count];
            int[] lengths = new int[count];
            uint[] crcs = new uint[count];
            int tableEnd = FormatConstants.HeaderBytes + tableBytes;
            for (int s = 0; s < count; s++)
            {
                int e = s << 4;
                kinds[s] = U32(table, e);
                uint off = U32(table, e + 4);
                uint len = U32(table, e + 8);
                crcs[s] = U32(table, e + 12);
                if ((off & 3u) != 0) throw new QnnFormatException(SectionName(s, kinds[s]) + ": offset " + off.ToString() + " is not a multiple of 4");
                if (off < (uint)tableEnd)
                    throw new QnnFormatException(SectionName(s, kinds[s]) + ": offset " + off.ToString() + " lies inside the file header and section table (the first " + tableEnd.ToString() + " bytes)");
                if (off > (uint)fileLength || len > (uint)fileLength - off)
                    throw new QnnFormatException(SectionName(s, kinds[s]) + ": bytes " + off.ToString() + "+" + len.ToString() + " lie outside the file (" + fileLength.ToString() + " bytes)");
                offsets[s] = (int)off;
                lengths[s] = (int)len;
                for (int t = 0; t < s; t++)
                {
                    if (lengths[t] == 0 || lengths[s] == 0) continue;
                    if (offsets[s] < offsets[t] + lengths[t] && offsets[t] < offsets[s] + lengths[s])
                        throw new QnnFormatException(SectionName(s, kinds[s]) + " overlaps " + SectionName(t, kinds[t]));
                }
            }

            return new SectionTable(count, major, minor, U64(header, 16), kinds, offsets, lengths, crcs);
        }

        /// <summary>Every section after MODEL: the layers' data (or its CRC when streaming), labels, metadata, unknown kinds.</summary>
        private static void ReadSections(ByteSource source, SectionTable t, QnnModel model, bool loadLayers)
        {
            int count = t.Count;
            uint[] kinds = t.Kinds;
            int[] offsets = t.Offsets;
            int[] lengths = t.Lengths;
            uint[] crcs = t.Crcs;
            int layerIndex = 0;
            bool sawLabels = false, sawMetadata = false;
            byte[] chunk = new byte[256];
            for (int s = 1; s < count; s++)
            {
                uint kind = kinds[s];
                if (kind == FormatConstants.SectionModel)
                    throw new QnnFormatException(SectionName(s, kind) + ": a second MODEL section");
                if (kind == FormatConstants.SectionLayer)
                {
                    if (layerIndex >= model.Layers.Length)
                        throw new QnnFormatException(SectionName(s, kind) + ": more LAYER sections than the " + model.Layers.Length.ToString() + " layers of the layer table");
                    LayerSpec layer = model.Layers[layerIndex];
                    if (lengths[s] != layer.DataBytes)
                        throw new QnnFormatException("layer " + layerIndex.ToString() + ": LAYER section has " + lengths[s].ToString() + " bytes, the record implies " + layer.DataBytes.ToString());
                    layer.DataOffset = offsets[s];
                    layer.DataLength = lengths[s];
                    layer.DataCrc = crcs[s];
                    if (loadLayers)
                    {
                        byte[] data = ReadSection(source, s, kind, offsets[s], lengths[s], crcs[s]);
                        ParseLayerData(layer, layerIndex, data);
                    }
                    else
                    {
                        CheckCrcStreaming(source, s, kind, offsets[s], lengths[s], crcs[s], chunk);
                    }
                    layerIndex++;
                }
                else if (kind == FormatConstants.SectionLabels)
                {
                    if (sawLabels) throw new QnnFormatException(SectionName(s, kind) + ": a second LABELS section");
                    sawLabels = true;
                    model.Labels = ParseLabels(ReadSection(source, s, kind, offsets[s], lengths[s], crcs[s]), model.ClassCount);
                }
                else if (kind == FormatConstants.SectionMetadata)
                {
                    if (sawMetadata) throw new QnnFormatException(SectionName(s, kind) + ": a second METADATA section");
                    sawMetadata = true;
                    if (lengths[s] > FormatConstants.MaxMetadataBytes)
                        throw new QnnFormatException("METADATA section of " + lengths[s].ToString() + " bytes is over the 64 KiB limit");
                    ParseMetadata(model, ReadSection(source, s, kind, offsets[s], lengths[s], crcs[s]));
                }
                else if ((kind & FormatConstants.SectionOptionalBit) == 0)
                {
                    throw new QnnFormatException(SectionName(s, kind) + ": unknown required section kind 0x" + kind.ToString("X8") + " (newer format?)");
                }
                // Unknown optional sections are skipped (SPEC 3).
            }
            if (layerIndex != model.Layers.Length)
                throw new QnnFormatException("the layer table has " + model.Layers.Length.ToString() + " layers but the file has " + layerIndex.ToString() + " LAYER sections");
        }


        /// <summary>Reads the data of one layer whose data was left in the file by a streaming read.</summary>
        public static void LoadLayer(ByteSource source, QnnModel model, int layerIndex)
        {
            LayerSpec layer = model.Layers[layerIndex];
            byte[] data = new byte[layer.DataLength];
            source.ReadAt(layer.DataOffset, data, 0, layer.DataLength);
            uint crc = Crc32.Compute(data, 0, data.Length);
            if (crc != layer.DataCrc)
                throw new QnnFormatException("layer " + layerIndex.ToString() + ": CRC mismatch (stored 0x" + layer.DataCrc.ToString("X8") + ", computed 0x" + crc.ToString("X8") + ")");
            ParseLayerData(layer, layerIndex, data);
        }

        /// <summary>
        /// Reads <paramref name="count"/> little-endian words starting <paramref name="firstWord"/> words into the
        /// layer's section: what a streaming runtime calls to fetch one filter at a time.
        /// </summary>
        public static void ReadLayerWords(ByteSource source, LayerSpec layer, int firstWord, uint[] destination, int destinationOffset, int count, byte[] scratch)
        {
            int position = layer.DataOffset + (firstWord << 2);
            int done = 0;
            int chunkWords = scratch.Length >> 2;
            while (done < count)
            {
                int n = count - done;
                if (n > chunkWords) n = chunkWords;
                source.ReadAt(position + (done << 2), scratch, 0, n << 2);
                for (int i = 0; i < n; i++)
                    destination[destinationOffset + done + i] = U32(scratch, i << 2);
                done += n;
            }
        }

        private static byte[] ReadSection(ByteSource source, int index, uint kind, int offset, int length, uint storedCrc)
        {
            byte[] bytes = new byte[length];
            source.ReadAt(offset, bytes, 0, length);
            uint crc = Crc32.Compute(bytes, 0, length);
            if (crc != storedCrc)
                throw new QnnFormatException(SectionName(index, kind) + ": CRC mismatch (stored 0x" + storedCrc.ToString("X8") + ", computed 0x" + crc.ToString("X8") + ")");
            return bytes;
        }

        private static void CheckCrcStreaming(ByteSource source, int index, uint kind, int offset, int length, uint storedCrc, byte[] chunk)
        {
            Crc32 crc = new Crc32();
            int done = 0;
            while (done < length)
            {
                int n = length - done;
                if (n > chunk.Length) n = chunk.Length;
                source.ReadAt(offset + done, chunk, 0, n);
                crc.Append(chunk, 0, n);
                done += n;
            }
            if (crc.Value != storedCrc)
                throw new QnnFormatException(SectionName(index, kind) + ": CRC mismatch (stored 0x" + storedCrc.ToString("X8") + ", computed 0x" + crc.Value.ToString("X8") + ")");
        }

        private static void ParseModelSection(QnnModel model, byte[] b)
        {
            if (b.Length < FormatConstants.ModelHeaderBytes)
                throw new QnnFormatException("MODEL section of " + b.Length.ToString() + " bytes is shorter than its 16-byte header");
            model.InputHeight = U16(b, 0);
            model.InputWidth = U16(b, 2);
            model.InputChannels = U16(b, 4);
            model.InputBits = b[6];
            model.PreprocessFlags = b[7];
            model.ClassCount = U16(b, 8);
            int layerCount = U16(b, 10);
            int recordSize = U16(b, 12);
            CheckRange("input height", model.InputHeight, 1, FormatConstants.MaxSpatial);
            CheckRange("input width", model.InputWidth, 1, FormatConstants.MaxSpatial);
            CheckRange("input channels", model.InputChannels, 1, FormatConstants.MaxChannels);
            CheckRange("input bits", model.InputBits, 1, FormatConstants.MaxBits);
            CheckRange("class count", model.ClassCount, FormatConstants.MinClasses, FormatConstants.MaxClasses);
            CheckRange("layer count", layerCount, 1, FormatConstants.MaxLayers);
            if (recordSize < FormatConstants.LayerRecordBytes || (recordSize & 3) != 0 || recordSize > 1024)
                throw new QnnFormatException("layer record size " + recordSize.ToString() + " is not a multiple of 4 in 64-1024");
            int expected = FormatConstants.ModelHeaderBytes + FormatMath.Mul(recordSize, layerCount);
            if (b.Length != expected)
                throw new QnnFormatException("MODEL section has " + b.Length.ToString() + " bytes, " + layerCount.ToString() + " layer records of " + recordSize.ToString() + " bytes need " + expected.ToString());
            LayerSpec[] layers = new LayerSpec[layerCount];
            for (int i = 0; i < layerCount; i++)
                layers[i] = ParseLayerRecord(b, FormatConstants.ModelHeaderBytes + FormatMath.Mul(recordSize, i), i);
            model.Layers = layers;
            ModelValidator.Check(model);
        }

        private static LayerSpec ParseLayerRecord(byte[] b, int o, int index)
        {
            LayerSpec l = new LayerSpec();
            int kind = b[o];
            if (kind < 1 || kind > 6)
                throw new QnnFormatException("layer " + index.ToString() + ": unknown layer kind " + kind.ToString() + " (newer format?)");
            l.Kind = (LayerKind)kind;
            l.WeightBits = b[o + 1];
            l.InputBits = b[o + 2];
            int signed = b[o + 3];
            if (signed > 1)
                throw new QnnFormatException("layer " + index.ToString() + ": input signed " + signed.ToString() + " is neither 0 (unsigned) nor 1 (signed)");
            l.InputSigned = signed == 1;
            int output = b[o + 4];
            if (output < 1 || output > 4)
                throw new QnnFormatException("layer " + index.ToString() + ": unknown output kind " + output.ToString() + " (newer format?)");
            l.Output = (OutputKind)output;
            l.OutputBits = b[o + 5];
            l.InH = U16(b, o + 8); l.InW = U16(b, o + 10); l.InC = U16(b, o + 12);
            l.OutH = U16(b, o + 14); l.OutW = U16(b, o + 16); l.OutC = U16(b, o + 18);
            l.KernelH = b[o + 20]; l.KernelW = b[o + 21];
            l.StrideH = b[o + 22]; l.StrideW = b[o + 23];
            l.PadTop = b[o + 24]; l.PadLeft = b[o + 25]; l.PadBottom = b[o + 26]; l.PadRight = b[o + 27];
            l.PoolH = b[o + 28]; l.PoolW = b[o + 29]; l.PoolStrideH = b[o + 30]; l.PoolStrideW = b[o + 31];
            uint weightWords = U32(b, o + 32);
            // Checked against the shape by ModelValidator once the shape itself is checked.
            l.DeclaredWeightWords = weightWords > int.MaxValue ? -1 : (int)weightWords;
            // Gate and cell bits (v1.1, SPEC 1.10): the validator refuses them on a layer that is not an LSTM/GRU.
            l.GateBits = b[o + 36];
            l.CellBits = b[o + 37];
            for (int r = 38; r < FormatConstants.LayerRecordBytes; r++)
                if (b[o + r] != 0)
                    throw new QnnFormatException("layer " + index.ToString() + ": reserved record byte " + r.ToString() + " is " + b[o + r].ToString() + ", not 0");
            return l;
        }

        private static void ParseLayerData(LayerSpec l, int index, byte[] data)
        {
            int words = l.WeightWords;
            int pos = 0;
            if (l.IsSequenceLayer)
            {
                uint[] w = new uint[words];
                for (int i = 0; i < words; i++) { w[i] = U32(data, pos); pos += 4; }
                ModelValidator.CheckSequenceWeightPadding(l, index, w);
                l.Weights = w;
                if (l.Kind == LayerKind.Embedding) return;
                int n = l.GateThresholdCount;
                int[] t = new int[n];
                for (int i = 0; i < n; i++) { t[i] = (int)U32(data, pos); pos += 4; }
                int fw = l.GateFlipWords;
                uint[] flip = new uint[fw];
                for (int i = 0; i < fw; i++) { flip[i] = U32(data, pos); pos += 4; }
                int sn = l.StateThresholdCount;
                int[] state = new int[sn];
                for (int i = 0; i < sn; i++) { state[i] = (int)U32(data, pos); pos += 4; }
                l.Thresholds = t;
                l.Flip = flip;
                l.StateThresholds = state;
                ModelValidator.CheckRecurrentThresholds(l, index);
                return;
            }
            if (l.Kind != LayerKind.MaxPool2D)
            {
                uint[] w = new uint[words];
                for (int i = 0; i < words; i++) { w[i] = U32(data, pos); pos += 4; }
                ModelValidator.CheckWeightPadding(l, index, w);
                l.Weights = w;
                if (l.Output == OutputKind.Thresholds)
                {
                    int n = FormatMath.Mul(l.OutC, l.Levels);
                    int[] t = new int[n];
                    for (int i = 0; i < n; i++) { t[i] = (int)U32(data, pos); pos += 4; }
                    int fw = l.OutChannelWords;
                    uint[] flip = new uint[fw];
                    for (int i = 0; i < fw; i++) { flip[i] = U32(data, pos); pos += 4; }
                    l.Thresholds = t;
                    l.Flip = flip;
                    ModelValidator.CheckThresholds(l, index);
                }
                else
                {
                    int[] offsets = new int[l.OutC];
                    int[] shifts = new int[l.OutC];
                    for (int i = 0; i < l.OutC; i++) { offsets[i] = (int)U32(data, pos); pos += 4; }
                    for (int i = 0; i < l.OutC; i++) { shifts[i] = (int)U32(data, pos); pos += 4; }
                    l.Offsets = offsets;
                    l.Shifts = shifts;
                    ModelValidator.CheckScores(l, index);
                }
            }
        }

        private static string[] ParseLabels(byte[] b, int classCount)
        {
            string[] labels = new string[classCount];
            int pos = 0;
            for (int c = 0; c < classCount; c++)
            {
                if (pos >= b.Length) throw new QnnFormatException("LABELS section: truncated at label " + c.ToString());
                int n = b[pos++];
                if (n > FormatConstants.MaxLabelBytes) throw new QnnFormatException("LABELS section: label " + c.ToString() + " is " + n.ToString() + " bytes, over the limit of 63");
                if (pos + n > b.Length) throw new QnnFormatException("LABELS section: truncated at label " + c.ToString());
                if (!Utf8.IsValid(b, pos, n)) throw new QnnFormatException("LABELS section: label " + c.ToString() + " is not valid UTF-8");
                labels[c] = Utf8.Decode(b, pos, n);
                pos += n;
            }
            return labels;
        }

        private static void ParseMetadata(QnnModel model, byte[] b)
        {
            if (b.Length < 4) throw new QnnFormatException("METADATA section: truncated entry count");
            uint entries = U32(b, 0);
            if (entries > FormatConstants.MaxMetadataEntries)
                throw new QnnFormatException("METADATA section: " + entries.ToString() + " entries, over the limit of 256");
            int count = (int)entries;
            string[] keys = new string[count];
            string[] values = new string[count];
            int pos = 4;
            for (int i = 0; i < count; i++)
            {
                keys[i] = ReadText(b, ref pos, i);
                values[i] = ReadText(b, ref pos, i);
            }
            model.MetadataKeys = keys;
            model.MetadataValues = values;
        }

        private static string ReadText(byte[] b, ref int pos, int entry)
        {
            if (pos + 2 > b.Length) throw new QnnFormatException("METADATA section: truncated at entry " + entry.ToString());
            int n = U16(b, pos);
            pos += 2;
            if (pos + n > b.Length) throw new QnnFormatException("METADATA section: truncated at entry " + entry.ToString());
            if (!Utf8.IsValid(b, pos, n)) throw new QnnFormatException("METADATA section: entry " + entry.ToString() + " is not valid UTF-8");
            string s = Utf8.Decode(b, pos, n);
            pos += n;
            return s;
        }

        private static void CheckRange(string what, int value, int min, int max)
        {
            if (value < min || value > max)
                throw new QnnFormatException(what + " " + value.ToString() + " is outside " + min.ToString() + "-" + max.ToString());
        }

        private static string SectionName(int index, uint kind)
        {
            string name;
            if (kind == FormatConstants.SectionModel) name = "MODEL";
            else if (kind == FormatConstants.SectionLayer) name = "LAYER";
            else if (kind == FormatConstants.SectionLabels) name = "LABELS";
            else if (kind == FormatConstants.SectionMetadata) name = "METADATA";
            else name = "kind 0x" + kind.ToString("X8");
            return "section " + index.ToString() + " (" + name + ")";
        }

        internal static int U16(byte[] b, int o) { return b[o] | (b[o + 1] << 8); }

        internal static uint U32(byte[] b, int o)
        {
            return (uint)b[o] | ((uint)b[o + 1] << 8) | ((uint)b[o + 2] << 16) | ((uint)b[o + 3] << 24);
        }

        internal static ulong U64(byte[] b, int o)
        {
            return (ulong)U32(b, o) | ((ulong)U32(b, o + 4) << 32);
        }
    }
}

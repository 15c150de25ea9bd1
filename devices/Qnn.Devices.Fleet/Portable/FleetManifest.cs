using System;

namespace Qnn.Devices.Fleet
{
    /// <summary>
    /// The announcement of a model to a group (devices/FLEET.md, "The manifest"): one "key value" per line, in a
    /// fixed order, then a last line "signature BASE64" over the UTF-8 bytes of every line before it (ECDSA P-256,
    /// SHA-256, IEEE P1363 r‖s). Plain text so that a microcontroller parses it without a JSON library.
    /// </summary>
    public sealed class FleetManifest
    {
        public const string Magic = "qnn-fleet 1";
        /// <summary>The most a package may hold: the format's 256 MiB cap on a model plus its canary inputs.</summary>
        public const int MaxPackageBytes = 300 << 20;
        public const int MinChunkBytes = 256;
        public const int MaxChunkBytes = 32 << 10;

        /// <summary>The model's id (format/SPEC.md), 16 hex digits.</summary>
        public string ModelId = "";
        /// <summary>Bytes of the package: the .qnn file followed by the canary inputs.</summary>
        public int Size;
        public int ModelSize;
        public uint Crc32;
        /// <summary>SHA-256 of the package, 64 hex digits: what the signature binds the bytes to.</summary>
        public string Sha256 = "";
        public int ChunkSize;
        public int Chunks;
        public string CanaryId = "";
        public int CanaryCount;
        public int CanarySampleBytes;
        /// <summary>XxHash64 of the canary scores on the host's runtimes (Qnn.Verification's digest).</summary>
        public string DigestPortable = "";
        public string DigestFast = "";
        public string DigestGpu = "";
        public string Pushed = "";
        /// <summary>The signature, or null when the announcement carries none (refused by every device).</summary>
        public byte[]? Signature;
        /// <summary>The bytes the signature covers: every line before "signature".</summary>
        public byte[] SignedBytes = new byte[0];

        /// <summary>The text of every line but the signature's, as signed.</summary>
        public string Body()
        {
            return Magic + "\n" +
                   "model " + ModelId + "\n" +
                   "size " + Size.ToString() + "\n" +
                   "model-size " + ModelSize.ToString() + "\n" +
                   "crc32 " + Hex.OfUInt32(Crc32) + "\n" +
                   "sha256 " + Sha256 + "\n" +
                   "chunk-size " + ChunkSize.ToString() + "\n" +
                   "chunks " + Chunks.ToString() + "\n" +
                   "canary " + CanaryId + " " + CanaryCount.ToString() + " " + CanarySampleBytes.ToString() + "\n" +
                   "digest-portable " + DigestPortable + "\n" +
                   "digest-fast " + DigestFast + "\n" +
                   "digest-gpu " + DigestGpu + "\n" +
                   "pushed " + Pushed + "\n";
        }

        /// <summary>The announcement's text: the body, then the signature line when there is one.</summary>
        public string ToText()
        {
            return Signature == null ? Body() : Body() + "signature " + Convert.ToBase64String(Signature) + "\n";
        }

        public byte[] ToBytes() { return Ascii.Bytes(ToText()); }

        /// <summary>The length of chunk <paramref name="index"/>: <see cref="ChunkSize"/>, the last one what is left.</summary>
        public int ChunkLength(int index)
        {
            int start = ChunkStart(index);
            int left = Size - start;
            return left < ChunkSize ? left : ChunkSize;
        }

        /// <summary>index × ChunkSize as a shift: chunk sizes are powers of two (checked by Parse).</summary>
        public int ChunkStart(int index) { return index << ChunkShift(); }

        private int ChunkShift()
        {
            int shift = 0;
            while ((1 << shift) < ChunkSize) shift++;
            return shift;
        }

        /// <summary>The number of chunks of <paramref name="size"/> bytes in pieces of <paramref name="chunkSize"/> (a power of two).</summary>
        public static int ChunkCount(int size, int chunkSize)
        {
            int shift = 0;
            while ((1 << shift) < chunkSize) shift++;
            return ((size - 1) >> shift) + 1;
        }

        /// <summary>Reads an announcement; throws <see cref="FleetProtocolException"/> naming the first bad line.</summary>
        public static FleetManifest Parse(byte[] payload)
        {
            if (payload.Length > 4096) throw new FleetProtocolException("manifest: " + payload.Length.ToString() + " bytes, over 4096");
            string text = Ascii.Text(payload, 0, payload.Length, "manifest");
            string[] lines = text.Split('\n');
            if (lines.Length < 14 || lines[0] != Magic) throw new FleetProtocolException("manifest: does not start with \"" + Magic + "\"");
            FleetManifest m = new FleetManifest();
            m.ModelId = Field(lines, 1, "model");
            if (m.ModelId.Length != 16 || Hex.Parse(m.ModelId) == null) throw new FleetProtocolException("manifest: model id is not 16 hex digits");
            m.Size = Number(lines, 2, "size", 1, MaxPackageBytes);
            m.ModelSize = Number(lines, 3, "model-size", 1, m.Size);
            byte[]? crc = Hex.Parse(Field(lines, 4, "crc32"));
            if (crc == null || crc.Length != 4) throw new FleetProtocolException("manifest: crc32 is not 8 hex digits");
            m.Crc32 = ((uint)crc[0] << 24) | ((uint)crc[1] << 16) | ((uint)crc[2] << 8) | crc[3];
            m.Sha256 = Field(lines, 5, "sha256");
            byte[]? sha = Hex.Parse(m.Sha256);
            if (sha == null || sha.Length != 32) throw new FleetProtocolException("manifest: sha256 is not 64 hex digits");
            m.ChunkSize = Number(lines, 6, "chunk-size", MinChunkBytes, MaxChunkBytes);
            if ((m.ChunkSize & (m.ChunkSize - 1)) != 0) throw new FleetProtocolException("manifest: chunk-size is not a power of two");
            m.Chunks = Number(lines, 7, "chunks", 1, MaxPackageBytes);
            if (m.Chunks != (((m.Size - 1) >> m.ChunkShift()) + 1))
                throw new FleetProtocolException("manifest: chunks does not match size and chunk-size");
            string[] canary = Field(lines, 8, "canary").Split(' ');
            if (canary.Length != 3) throw new FleetProtocolException("manifest: canary is not \"ID COUNT SAMPLE_BYTES\"");
            m.CanaryId = canary[0];
            m.CanaryCount = ParseInt(canary[1], "canary count", 0, 1 << 16);
            m.CanarySampleBytes = ParseInt(canary[2], "canary sample bytes", 0, m.Size);
            m.DigestPortable = Field(lines, 9, "digest-portable");
            m.DigestFast = Field(lines, 10, "digest-fast");
            m.DigestGpu = Field(lines, 11, "digest-gpu");
            m.Pushed = Field(lines, 12, "pushed");
            int bodyLines = 13;
            int signedLength = 0;
            for (int i = 0; i < bodyLines; i++) signedLength += lines[i].Length + 1;   // ASCII: one byte per character
            m.SignedBytes = new byte[signedLength];
            Array.Copy(payload, m.SignedBytes, signedLength);
            if (lines.Length > bodyLines && lines[bodyLines].Length > 0)
            {
                string signature = Field(lines, bodyLines, "signature");
                try { m.Signature = Convert.FromBase64String(signature); }
                catch (Exception) { throw new FleetProtocolException("manifest: signature is not base64"); }
            }
            return m;
        }

        private static string Field(string[] lines, int index, string key)
        {
            string line = lines[index];
            if (line.Length <= key.Length || line.Substring(0, key.Length + 1) != key + " ")
                throw new FleetProtocolException("manifest: line " + (index + 1).ToString() + " is not \"" + key + " ...\"");
            return line.Substring(key.Length + 1);
        }

        private static int Number(string[] lines, int index, string key, int min, int max)
        {
            return ParseInt(Field(lines, index, key), key, min, max);
        }

        private static int ParseInt(string text, string what, int min, int max)
        {
            if (text.Length == 0 || text.Length > 10) throw new FleetProtocolException("manifest: " + what + " is not a number");
            long value = 0;
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (c < '0' || c > '9') throw new FleetProtocolException("manifest: " + what + " is not a number");
                value = (value << 3) + (value << 1) + (c - '0');
            }
            if (value < min || value > max) throw new FleetProtocolException("manifest: " + what + " " + text + " is outside " + min.ToString() + ".." + max.ToString());
            return (int)value;
        }
    }
}

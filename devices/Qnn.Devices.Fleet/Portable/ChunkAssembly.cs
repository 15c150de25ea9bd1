namespace Qnn.Devices.Fleet
{
    /// <summary>
    /// A package being assembled in the staging area, one chunk at a time: each chunk is checked (index, length,
    /// CRC-32) and written at its place before the next is asked for, so a device holds one chunk in memory. Which
    /// chunks are in is kept in the "stage" record (the manifest's SHA-256 and a bitmap), written after every chunk,
    /// so a transfer cut by a reconnect or a power loss resumes with the chunks still missing.
    /// A chunk's payload is its CRC-32 (4 bytes, little-endian) followed by its bytes.
    /// </summary>
    public sealed class ChunkAssembly
    {
        public const string StageRecord = "stage";

        private readonly FleetManifest _manifest;
        private readonly IFleetStorage _storage;
        private readonly byte[] _have;
        private int _count;

        private ChunkAssembly(FleetManifest manifest, IFleetStorage storage, byte[] have, int count)
        {
            _manifest = manifest;
            _storage = storage;
            _have = have;
            _count = count;
        }

        public FleetManifest Manifest { get { return _manifest; } }
        public int Received { get { return _count; } }
        public bool Complete { get { return _count == _manifest.Chunks; } }

        /// <summary>
        /// The assembly of <paramref name="manifest"/>'s package: the staged one when the stage record is for the same
        /// package (a resumed transfer), else an empty stage.
        /// </summary>
        public static ChunkAssembly Open(FleetManifest manifest, IFleetStorage storage)
        {
            int bitmapBytes = (manifest.Chunks + 7) >> 3;
            string? record = storage.ReadRecord(StageRecord);
            if (record != null)
            {
                string[] parts = record.Split(' ');
                byte[]? have = parts.Length == 2 && parts[0] == manifest.Sha256 ? Hex.Parse(parts[1]) : null;
                if (have != null && have.Length == bitmapBytes)
                {
                    int count = 0;
                    for (int i = 0; i < manifest.Chunks; i++) if ((have[i >> 3] & (1 << (i & 7))) != 0) count++;
                    return new ChunkAssembly(manifest, storage, have, count);
                }
            }
            storage.ResetStage(manifest.Size);
            ChunkAssembly fresh = new ChunkAssembly(manifest, storage, new byte[bitmapBytes], 0);
            fresh.Save();
            return fresh;
        }

        public bool Has(int index) { return (_have[index >> 3] & (1 << (index & 7))) != 0; }

        /// <summary>The first chunk at or after <paramref name="from"/> not yet received, or -1.</summary>
        public int NextMissing(int from)
        {
            for (int i = from; i < _manifest.Chunks; i++) if (!Has(i)) return i;
            return -1;
        }

        /// <summary>
        /// Checks chunk <paramref name="index"/> and writes it. Returns false for a chunk already in (a redelivery);
        /// throws <see cref="FleetProtocolException"/> for a truncated, oversized or corrupted one.
        /// </summary>
        public bool Accept(int index, byte[] payload)
        {
            if (index < 0 || index >= _manifest.Chunks)
                throw new FleetProtocolException("chunk " + index.ToString() + " of model " + _manifest.ModelId + ": outside 0.." + (_manifest.Chunks - 1).ToString());
            if (Has(index)) return false;
            int expected = _manifest.ChunkLength(index);
            if (payload.Length != expected + 4)
                throw new FleetProtocolException("chunk " + index.ToString() + " of model " + _manifest.ModelId + ": " + (payload.Length - 4).ToString() +
                                                 " bytes, expected " + expected.ToString() + (payload.Length < expected + 4 ? " (truncated)" : ""));
            uint stated = (uint)payload[0] | ((uint)payload[1] << 8) | ((uint)payload[2] << 16) | ((uint)payload[3] << 24);
            uint crc = Qnn.Format.Crc32.Compute(payload, 4, expected);
            if (crc != stated)
                throw new FleetProtocolException("chunk " + index.ToString() + " of model " + _manifest.ModelId + ": CRC-32 " + Hex.OfUInt32(crc) + ", stated " + Hex.OfUInt32(stated) + " (corrupted)");
            _storage.WriteStage(_manifest.ChunkStart(index), payload, 4, expected);
            _have[index >> 3] = (byte)(_have[index >> 3] | (1 << (index & 7)));
            _count++;
            Save();
            return true;
        }

        /// <summary>
        /// With every chunk in: reads the staged package back in pieces and checks its CRC-32 and SHA-256 against the
        /// manifest (whose signature was checked when it arrived). Throws naming what differs.
        /// </summary>
        public void CheckWhole()
        {
            byte[] piece = new byte[1024];
            Sha256 sha = new Sha256();
            Qnn.Format.Crc32 crc = new Qnn.Format.Crc32();
            for (int offset = 0; offset < _manifest.Size; offset += piece.Length)
            {
                int n = _manifest.Size - offset < piece.Length ? _manifest.Size - offset : piece.Length;
                _storage.ReadStage(offset, piece, 0, n);
                sha.Append(piece, 0, n);
                crc.Append(piece, 0, n);
            }
            if (crc.Value != _manifest.Crc32)
                throw new FleetProtocolException("model " + _manifest.ModelId + ": CRC-32 of the package " + Hex.OfUInt32(crc.Value) + ", manifest " + Hex.OfUInt32(_manifest.Crc32) + " (altered)");
            string digest = Hex.Of(sha.Finish());
            if (digest != _manifest.Sha256)
                throw new FleetProtocolException("model " + _manifest.ModelId + ": SHA-256 of the package differs from the signed manifest's (altered)");
        }

        /// <summary>Forgets the staged transfer (after a commit or a refusal).</summary>
        public static void Clear(IFleetStorage storage) { storage.WriteRecord(StageRecord, ""); }

        private void Save() { _storage.WriteRecord(StageRecord, _manifest.Sha256 + " " + Hex.Of(_have)); }
    }
}

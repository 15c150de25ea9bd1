namespace Qnn.Devices.Fleet
{
    /// <summary>
    /// XXH64 with seed 0 (Yann Collet's xxHash specification), incremental, written out because nanoFramework's
    /// mscorlib has no System.IO.Hashing: the canary digest a device reports is XXH64 of its class scores as
    /// little-endian 32-bit words, sample after sample, as Qnn.Verification's Verifier computes it on the host. Tested
    /// equal to System.IO.Hashing.XxHash64 on random data in random pieces, and used by the Pi's canary runner too.
    /// </summary>
    public sealed class XxHash64 : BlockHash
    {
        private const ulong Prime1 = 0x9E3779B185EBCA87UL, Prime2 = 0xC2B2AE3D27D4EB4FUL, Prime3 = 0x165667B19E3779F9UL;
        private const ulong Prime4 = 0x85EBCA77C2B2AE63UL, Prime5 = 0x27D4EB2F165667C5UL;

        private ulong _v1 = unchecked(Prime1 + Prime2), _v2 = Prime2, _v3, _v4 = unchecked(0UL - Prime1);
        public XxHash64() : base(32) { }

        /// <summary>Appends a 32-bit value as 4 little-endian bytes (a class score).</summary>
        public void AppendInt32(int value)
        {
            uint v = (uint)value;
            for (int b = 0; b < 4; b++)
            {
                AppendByte((byte)v);
                v >>= 8;
            }
        }

        /// <summary>The hash of everything appended so far (more may be appended afterwards).</summary>
        public ulong Value
        {
            get
            {
                unchecked
                {
                    ulong h;
                    if (Length >= 32)
                    {
                        h = Rotl(_v1, 1) + Rotl(_v2, 7) + Rotl(_v3, 12) + Rotl(_v4, 18);
                        h = Merge(h, _v1);
                        h = Merge(h, _v2);
                        h = Merge(h, _v3);
                        h = Merge(h, _v4);
                    }
                    else h = Prime5;
                    h += (ulong)Length;
                    int i = 0;
                    for (; i + 8 <= Filled; i += 8)
                    {
                        h ^= Round(0, Read64(Block, i));
                        h = Rotl(h, 27) * Prime1 + Prime4;
                    }
                    if (i + 4 <= Filled)
                    {
                        h ^= Read32(Block, i) * Prime1;
                        h = Rotl(h, 23) * Prime2 + Prime3;
                        i += 4;
                    }
                    for (; i < Filled; i++)
                    {
                        h ^= Block[i] * Prime5;
                        h = Rotl(h, 11) * Prime1;
                    }
                    h ^= h >> 33;
                    h *= Prime2;
                    h ^= h >> 29;
                    h *= Prime3;
                    h ^= h >> 32;
                    return h;
                }
            }
        }

        /// <summary><see cref="Value"/> as 16 lower-case hex digits, the form of the host's digests.</summary>
        public string Hex() { return Fleet.Hex.OfUInt64(Value); }

        protected override void Consume()
        {
            _v1 = Round(_v1, Read64(Block, 0));
            _v2 = Round(_v2, Read64(Block, 8));
            _v3 = Round(_v3, Read64(Block, 16));
            _v4 = Round(_v4, Read64(Block, 24));
        }

        private static ulong Round(ulong acc, ulong input)
        {
            unchecked
            {
                acc += input * Prime2;
                return Rotl(acc, 31) * Prime1;
            }
        }

        private static ulong Merge(ulong acc, ulong value)
        {
            unchecked
            {
                acc ^= Round(0, value);
                return acc * Prime1 + Prime4;
            }
        }

        private static ulong Rotl(ulong x, int r) { return (x << r) | (x >> (64 - r)); }

        private static ulong Read32(byte[] b, int o)
        {
            return (ulong)(b[o] | ((uint)b[o + 1] << 8) | ((uint)b[o + 2] << 16) | ((uint)b[o + 3] << 24));
        }

        private static ulong Read64(byte[] b, int o)
        {
            return Read32(b, o) | (Read32(b, o + 4) << 32);
        }
    }
}

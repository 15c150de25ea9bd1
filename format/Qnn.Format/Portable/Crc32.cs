using System;

namespace Qnn.Format
{
    /// <summary>
    /// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), table driven, equal to System.IO.Hashing.Crc32.
    /// Written out here because the device reader cannot use System.IO.Hashing.
    /// </summary>
    public sealed class Crc32
    {
        private static uint[]? s_table;
        private uint _state = 0xFFFFFFFFu;

        private static uint[] Table()
        {
            if (s_table != null) return s_table;
            uint[] table = new uint[256];
            for (uint n = 0; n < 256; n++)
            {
                uint c = n;
                for (int k = 0; k < 8; k++)
                    c = (c & 1u) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                table[n] = c;
            }
            s_table = table;
            return table;
        }

        public void Append(byte[] data, int offset, int count)
        {
            uint[] table = Table();
            uint c = _state;
            int end = offset + count;
            for (int i = offset; i < end; i++)
                c = table[(c ^ data[i]) & 0xFFu] ^ (c >> 8);
            _state = c;
        }

        public uint Value { get { return _state ^ 0xFFFFFFFFu; } }

        public static uint Compute(byte[] data, int offset, int count)
        {
            Crc32 crc = new Crc32();
            crc.Append(data, offset, count);
            return crc.Value;
        }
    }
}

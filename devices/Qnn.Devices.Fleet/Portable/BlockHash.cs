namespace Qnn.Devices.Fleet
{
    /// <summary>
    /// The part every block hash shares (<see cref="Sha256"/>'s 64-byte blocks, <see cref="XxHash64"/>'s 32-byte
    /// stripes): bytes are gathered into one block, which is consumed when full; the total length is counted.
    /// </summary>
    public abstract class BlockHash
    {
        /// <summary>The block being filled, <see cref="Filled"/> bytes of it so far.</summary>
        protected readonly byte[] Block;
        protected int Filled;
        /// <summary>Bytes appended in all.</summary>
        protected long Length;

        protected BlockHash(int blockBytes) { Block = new byte[blockBytes]; }

        public void Append(byte[] data, int offset, int count)
        {
            int end = offset + count;
            for (int i = offset; i < end; i++) AppendByte(data[i]);
        }

        protected void AppendByte(byte value)
        {
            Length++;
            Block[Filled++] = value;
            if (Filled == Block.Length) { Consume(); Filled = 0; }
        }

        /// <summary>Mixes the full <see cref="Block"/> into the state.</summary>
        protected abstract void Consume();
    }
}

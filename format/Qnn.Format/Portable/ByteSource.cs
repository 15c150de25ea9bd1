using System;

namespace Qnn.Format
{
    /// <summary>
    /// Random-access bytes of a model file. The portable reader sees files only through this class, so that a
    /// device can read from flash in chunks and a desktop from a byte array or a stream (nanoFramework's
    /// mscorlib has no Stream).
    /// </summary>
    public abstract class ByteSource
    {
        /// <summary>Total length in bytes.</summary>
        public abstract int Length { get; }

        /// <summary>Copies <paramref name="count"/> bytes starting at <paramref name="position"/>; throws when they are not all there.</summary>
        public abstract void ReadAt(int position, byte[] buffer, int offset, int count);
    }

    /// <summary>A model file held whole in memory.</summary>
    public sealed class ArraySource : ByteSource
    {
        private readonly byte[] _bytes;

        public ArraySource(byte[] bytes) { _bytes = bytes; }

        public override int Length { get { return _bytes.Length; } }

        public override void ReadAt(int position, byte[] buffer, int offset, int count)
        {
            if (position < 0 || count < 0 || position > _bytes.Length - count)
                throw new QnnFormatException("read past the end of the file at byte " + position.ToString());
            Array.Copy(_bytes, position, buffer, offset, count);
        }
    }
}

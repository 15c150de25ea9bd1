using System;
using System.IO;
using Qnn.Format;

namespace Qnn.Devices.NanoFramework
{
    /// <summary>
    /// The model file on the device's internal flash file system (I:\) as a <see cref="ByteSource"/>: the portable
    /// reader and the streaming interpreter ask for byte ranges, and each is read with one seek and as many reads as
    /// the file system needs, so the whole file is never in memory. The same source compiles for .NET nanoFramework
    /// (nanoFramework.System.IO.FileSystem) and for .NET, where tests/Qnn.Devices.Tests runs it.
    /// </summary>
    public sealed class FileByteSource : ByteSource, IDisposable
    {
        private readonly string _path;
        private readonly FileStream _stream;
        private readonly int _length;

        public FileByteSource(string path)
        {
            _path = path;
            _stream = new FileStream(path, FileMode.Open, FileAccess.Read);
            long length = _stream.Length;
            if (length > FormatConstants.MaxFileBytes)
            {
                _stream.Dispose();
                throw new QnnFormatException(path + ": " + length.ToString() + " bytes is over the 256 MiB limit of a model");
            }
            _length = (int)length;
        }

        public override int Length { get { return _length; } }

        public override void ReadAt(int position, byte[] buffer, int offset, int count)
        {
            if (position < 0 || count < 0 || position > _length - count)
                throw new QnnFormatException(_path + ": read past the end of the file at byte " + position.ToString());
            _stream.Seek(position, SeekOrigin.Begin);
            int done = 0;
            while (done < count)
            {
                int read = _stream.Read(buffer, offset + done, count - done);
                if (read <= 0)
                    throw new QnnFormatException(_path + ": the file ended at byte " + (position + done).ToString());
                done += read;
            }
        }

        public void Dispose()
        {
            _stream.Dispose();
        }
    }
}

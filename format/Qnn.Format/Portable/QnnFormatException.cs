using System;

namespace Qnn.Format
{
    /// <summary>A model file that does not follow format/SPEC.md; the message says what is wrong.</summary>
    public class QnnFormatException : Exception
    {
        public QnnFormatException(string message) : base(message) { }
    }
}

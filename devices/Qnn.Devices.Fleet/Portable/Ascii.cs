namespace Qnn.Devices.Fleet
{
    /// <summary>
    /// The protocol's texts (manifest, status, records) are ASCII: written and read here by hand because
    /// nanoFramework's mscorlib has no System.Text.
    /// </summary>
    public static class Ascii
    {
        /// <summary>The bytes of <paramref name="text"/>; a character outside ASCII becomes '?'.</summary>
        public static byte[] Bytes(string text)
        {
            byte[] bytes = new byte[text.Length];
            for (int i = 0; i < text.Length; i++) bytes[i] = text[i] < 128 ? (byte)text[i] : (byte)'?';
            return bytes;
        }

        /// <summary>The text of <paramref name="count"/> bytes; throws <see cref="FleetProtocolException"/> on a byte outside ASCII.</summary>
        public static string Text(byte[] bytes, int offset, int count, string what)
        {
            char[] chars = new char[count];
            for (int i = 0; i < count; i++)
            {
                byte b = bytes[offset + i];
                if (b >= 128) throw new FleetProtocolException(what + ": not ASCII text");
                chars[i] = (char)b;
            }
            return new string(chars);
        }
    }
}

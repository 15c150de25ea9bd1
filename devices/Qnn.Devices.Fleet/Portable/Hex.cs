namespace Qnn.Devices.Fleet
{
    /// <summary>Lower-case hexadecimal, written out (no spans, no generics) so the device part builds for nanoFramework.</summary>
    public static class Hex
    {
        private const string Digits = "0123456789abcdef";

        public static string Of(byte[] bytes)
        {
            char[] text = new char[bytes.Length << 1];
            for (int i = 0; i < bytes.Length; i++)
            {
                text[i << 1] = Digits[bytes[i] >> 4];
                text[(i << 1) + 1] = Digits[bytes[i] & 15];
            }
            return new string(text);
        }

        /// <summary>The bytes of <paramref name="text"/>, or null when it is not an even number of hex digits.</summary>
        public static byte[]? Parse(string text)
        {
            if (text == null || (text.Length & 1) != 0) return null;
            byte[] bytes = new byte[text.Length >> 1];
            for (int i = 0; i < bytes.Length; i++)
            {
                int high = Digit(text[i << 1]), low = Digit(text[(i << 1) + 1]);
                if (high < 0 || low < 0) return null;
                bytes[i] = (byte)((high << 4) | low);
            }
            return bytes;
        }

        private static int Digit(char c)
        {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        }

        public static string OfUInt32(uint value) { return OfBits(value, 8); }

        /// <summary>16 digits, most significant first (the canary digest's form, as the host's "x16").</summary>
        public static string OfUInt64(ulong value) { return OfBits(value, 16); }

        private static string OfBits(ulong value, int digits)
        {
            char[] text = new char[digits];
            for (int i = digits - 1; i >= 0; i--) { text[i] = Digits[(int)(value & 15)]; value >>= 4; }
            return new string(text);
        }
    }
}

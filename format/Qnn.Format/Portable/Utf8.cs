using System;

namespace Qnn.Format
{
    /// <summary>
    /// UTF-8 decoding for labels and metadata. nanoFramework's mscorlib has no System.Text, so the portable
    /// reader decodes by hand; malformed sequences become U+FFFD.
    /// </summary>
    public static class Utf8
    {
        /// <summary>
        /// True when the bytes are well-formed UTF-8 (RFC 3629): no stray or missing continuation bytes, no overlong
        /// forms, no surrogates, nothing past U+10FFFF. SPEC 2.5 requires it of labels and metadata.
        /// </summary>
        public static bool IsValid(byte[] bytes, int offset, int count)
        {
            int i = offset, end = offset + count;
            while (i < end)
            {
                int b = bytes[i];
                int extra, cp, min;
                if (b < 0x80) { i++; continue; }
                if ((b & 0xE0) == 0xC0) { extra = 1; cp = b & 0x1F; min = 0x80; }
                else if ((b & 0xF0) == 0xE0) { extra = 2; cp = b & 0x0F; min = 0x800; }
                else if ((b & 0xF8) == 0xF0) { extra = 3; cp = b & 0x07; min = 0x10000; }
                else return false;
                if (i + extra >= end) return false;
                for (int k = 1; k <= extra; k++)
                {
                    int c = bytes[i + k];
                    if ((c & 0xC0) != 0x80) return false;
                    cp = (cp << 6) | (c & 0x3F);
                }
                if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
                i += extra + 1;
            }
            return true;
        }

        public static string Decode(byte[] bytes, int offset, int count)
        {
            char[] chars = new char[count];
            int n = 0;
            int i = offset, end = offset + count;
            while (i < end)
            {
                int b = bytes[i];
                int extra, cp;
                if (b < 0x80) { extra = 0; cp = b; }
                else if ((b & 0xE0) == 0xC0) { extra = 1; cp = b & 0x1F; }
                else if ((b & 0xF0) == 0xE0) { extra = 2; cp = b & 0x0F; }
                else if ((b & 0xF8) == 0xF0) { extra = 3; cp = b & 0x07; }
                else { chars[n++] = '\uFFFD'; i++; continue; }
                if (i + extra >= end) { chars[n++] = '\uFFFD'; break; }
                bool ok = true;
                for (int k = 1; k <= extra; k++)
                {
                    int c = bytes[i + k];
                    if ((c & 0xC0) != 0x80) { ok = false; break; }
                    cp = (cp << 6) | (c & 0x3F);
                }
                if (!ok) { chars[n++] = '\uFFFD'; i++; continue; }
                i += extra + 1;
                if (cp >= 0x10000)
                {
                    // Four bytes make a surrogate pair: two chars, so the char array is never too short.
                    cp -= 0x10000;
                    chars[n++] = (char)(0xD800 | (cp >> 10));
                    chars[n++] = (char)(0xDC00 | (cp & 0x3FF));
                }
                else chars[n++] = (char)cp;
            }
            return new string(chars, 0, n);
        }
    }
}

namespace Qnn.Runtime.Edge.Imaging;

/// <summary>
/// The header of a Netpbm file (PBM, PGM, PPM: P1-P6) checked before ImageSharp decodes it. ImageSharp's decoder
/// throws ArgumentOutOfRangeException on a 0 or negative size, divides by a maxval of 0, and fills a file shorter
/// than its header says with zeros, which would then be classified as if it were an image. Returns null when the
/// header and the data agree, else what is wrong.
/// </summary>
public static class PnmHeader
{
    public static bool IsPnm(byte[] bytes) => bytes.Length >= 2 && bytes[0] == 'P' && bytes[1] is >= (byte)'1' and <= (byte)'6';

    public static string? Problem(byte[] bytes)
    {
        int kind = bytes[1] - '0';
        int pos = 2;
        bool bitmap = kind is 1 or 4;
        long? width = Number(bytes, ref pos), height = Number(bytes, ref pos);
        if (width is null || height is null) return "the header has no width and height (two positive numbers)";
        if (width < 1 || height < 1) return $"the header declares a {width}x{height} image";
        long maxval = 1;
        if (!bitmap)
        {
            long? m = Number(bytes, ref pos);
            if (m is null or < 1 or > 65535) return "the header's maximum value is not 1-65535";
            maxval = m.Value;
        }
        long channels = kind is 3 or 6 ? 3 : 1;
        long pixels = width.Value * height.Value;
        if (pixels > ImageInput.MaxPixels) return null;   // refused by the pixel cap with its own message
        if (kind >= 4)
        {
            pos++;   // exactly one whitespace byte ends a binary header
            long needed = kind == 4 ? (width.Value + 7) / 8 * height.Value : pixels * channels * (maxval > 255 ? 2 : 1);
            long have = Math.Max(0, bytes.Length - pos);
            return have < needed ? $"the header declares {width}x{height} pixels, {needed} bytes of data, but the file holds {have}" : null;
        }
        // Plain (ASCII) formats: one number per sample; P1 may write its bits without spaces.
        long samples = 0, need = pixels * channels;
        while (samples < need && pos < bytes.Length)
        {
            if (bitmap) { if (bytes[pos] is (byte)'0' or (byte)'1') samples++; pos++; continue; }
            if (Number(bytes, ref pos) is null) break;
            samples++;
        }
        return samples < need ? $"the header declares {width}x{height} pixels, {need} samples, but the file holds {samples}" : null;
    }

    /// <summary>The next decimal number after whitespace and # comments; null at the end or at anything else.</summary>
    private static long? Number(byte[] b, ref int pos)
    {
        while (pos < b.Length)
        {
            if (b[pos] == '#') { while (pos < b.Length && b[pos] != '\n' && b[pos] != '\r') pos++; }
            else if (b[pos] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f') pos++;
            else break;
        }
        long value = 0;
        int start = pos;
        while (pos < b.Length && b[pos] is >= (byte)'0' and <= (byte)'9' && value < int.MaxValue) value = value * 10 + (b[pos++] - '0');
        return pos == start ? null : value;
    }
}

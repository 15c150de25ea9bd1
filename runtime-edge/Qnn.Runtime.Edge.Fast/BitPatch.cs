namespace Qnn.Runtime.Edge.Fast;

/// <summary>
/// The bits of one convolution window laid end to end (an im2col of bits): for each input plane, bit
/// (ky·KW + kx)·C + c of a 64-bit word stream is channel c at kernel position (ky, kx). Weights are repacked the
/// same way, so a window's accumulator is a popcount dot product over ceil(KH·KW·C / 64) words whatever C is:
/// a 1-channel image does not waste 63 of every 64 bits, and bits past C never need masking.
/// Positions in the padding stay 0, the lowest level, as SPEC 1.4 says.
/// </summary>
public static class BitPatch
{
    /// <summary>ORs the 32 bits of <paramref name="value"/> into the stream at bit <paramref name="position"/>; the buffer needs one word of slack.</summary>
    public static void Append(Span<ulong> stream, long position, uint value)
    {
        int word = (int)(position >> 6), shift = (int)(position & 63);
        stream[word] |= (ulong)value << shift;
        if (shift > 32) stream[word + 1] |= (ulong)value >> (64 - shift);
    }

    /// <summary>
    /// Writes the window of output pixel (<paramref name="oy"/>, <paramref name="ox"/>) of every input plane:
    /// plane j at words [j·patchWords, (j+1)·patchWords) of <paramref name="patch"/>, which is cleared first.
    /// </summary>
    public static void Build(LayerSpec l, LayerGeometry g, ReadOnlySpan<uint> input, int oy, int ox, int patchWords, Span<ulong> patch)
    {
        int planes = l.InputBits, cw = g.InChannelWords, c = l.InC;
        patch[..(planes * patchWords + 1)].Clear();
        int iy0 = oy * l.StrideH - l.PadTop, ix0 = ox * l.StrideW - l.PadLeft;
        long planeStride = (long)patchWords << 6;
        if ((c & 31) == 0 && BitConverter.IsLittleEndian)
        {
            // Channels in whole 32-bit words: every word of a pixel lands on a 32-bit boundary of the stream, so the
            // patch is written as 32-bit words, copied, with no shifts or ORs (the layers past the first, mostly).
            var words32 = System.Runtime.InteropServices.MemoryMarshal.Cast<ulong, uint>(patch);
            int planeWords32 = patchWords * 2;
            for (int ky = 0, at = 0; ky < l.KernelH; ky++)
            {
                int iy = iy0 + ky;
                if (iy < 0 || iy >= l.InH)
                {
                    at += l.KernelW * cw;
                    continue;
                }
                for (int kx = 0; kx < l.KernelW; kx++, at += cw)
                {
                    int ix = ix0 + kx;
                    if (ix < 0 || ix >= l.InW) continue;
                    var pixel = input.Slice(iy * g.InRowWords + ix * g.InPixelWords, g.InPixelWords);
                    // Word by word: a pixel has few words (1 for 32 channels), too few for a memmove call to pay.
                    for (int j = 0, from = 0, to = at; j < planes; j++, to += planeWords32)
                        for (int w = 0; w < cw; w++) words32[to + w] = pixel[from++];
                }
            }
            return;
        }
        long positionBits = 0;
        for (int ky = 0; ky < l.KernelH; ky++)
        {
            int iy = iy0 + ky;
            if (iy < 0 || iy >= l.InH)
            {
                positionBits += (long)l.KernelW * c;
                continue;
            }
            for (int kx = 0; kx < l.KernelW; kx++, positionBits += c)
            {
                int ix = ix0 + kx;
                if (ix < 0 || ix >= l.InW) continue;
                var pixel = input.Slice(iy * g.InRowWords + ix * g.InPixelWords, g.InPixelWords);
                long planeBits = positionBits;
                for (int j = 0, at = 0; j < planes; j++, planeBits += planeStride)
                    for (int w = 0; w < cw; w++, at++)
                    {
                        uint value = pixel[at];
                        if (value != 0) Append(patch, planeBits + (w << 5), value);
                    }
            }
        }
    }
}

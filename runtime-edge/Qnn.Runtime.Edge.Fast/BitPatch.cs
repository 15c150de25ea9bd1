using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
    /// plane j at words [j·patchWords, (j+1)·patchWords) of <paramref name="patch"/>, every one of them written (0 past
    /// the window and in the padding).
    /// </summary>
    public static void Build(LayerSpec l, LayerGeometry g, ReadOnlySpan<uint> input, int oy, int ox, int patchWords, Span<ulong> patch)
    {
        int planes = l.InputBits, cw = g.InChannelWords, c = l.InC;
        int iy0 = oy * l.StrideH - l.PadTop, ix0 = ox * l.StrideW - l.PadLeft;
        if ((c & 31) == 0 && BitConverter.IsLittleEndian)
        {
            WholeWords(l, g, input, iy0, ix0, patchWords, patch);
            return;
        }
        patch[..(planes * patchWords + 1)].Clear();
        long planeStride = (long)patchWords << 6;
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

    /// <summary>
    /// <see cref="Build"/> when channels fill whole 32-bit words (the layers past the first, mostly): every word of a
    /// pixel lands on a 32-bit boundary of the stream, so the patch is written as 32-bit words, copied, with no shifts
    /// or ORs, and each word is written once (zero in the padding and past the window) rather than cleared first.
    /// </summary>
    private static void WholeWords(LayerSpec l, LayerGeometry g, ReadOnlySpan<uint> input, int iy0, int ix0, int patchWords, Span<ulong> patch)
    {
        int planes = l.InputBits, cw = g.InChannelWords, kw = l.KernelW, kh = l.KernelH;
        int planeWords32 = patchWords * 2, window32 = kh * kw * cw, pixelWords = g.InPixelWords, rowWords = g.InRowWords;
        // The reads below stay inside input (iy, ix tested against the input's size) and the writes inside the
        // patch's planes · patchWords words: one length test for both, none per word.
        if (patch.Length < planes * patchWords || input.Length < l.InH * rowWords) throw new ArgumentException("patch or input too short");
        ref uint to = ref Unsafe.As<ulong, uint>(ref MemoryMarshal.GetReference(patch));
        ref uint from = ref MemoryMarshal.GetReference(input);
        for (int j = 0; j < planes; j++)
            for (int w = window32; w < planeWords32; w++) Unsafe.Add(ref to, j * planeWords32 + w) = 0;
        int run = kw * cw;
        bool runs = planes == 1 && ix0 >= 0 && ix0 + kw <= l.InW;
        for (int ky = 0, at = 0; ky < kh; ky++)
        {
            int iy = iy0 + ky;
            bool rowInside = iy >= 0 && iy < l.InH;
            if (runs && rowInside)
            {
                // One plane, the kernel row inside the input: its KW pixels are one run of words (most windows).
                Copy(ref Unsafe.Add(ref to, at), ref Unsafe.Add(ref from, iy * rowWords + ix0 * pixelWords), run);
                at += run;
                continue;
            }
            for (int kx = 0; kx < kw; kx++, at += cw)
            {
                int ix = ix0 + kx;
                if (rowInside && ix >= 0 && ix < l.InW)
                {
                    ref uint pixel = ref Unsafe.Add(ref from, iy * rowWords + ix * pixelWords);
                    for (int j = 0, t = at; j < planes; j++, t += planeWords32) Copy(ref Unsafe.Add(ref to, t), ref Unsafe.Add(ref pixel, j * cw), cw);
                }
                else
                    for (int j = 0, t = at; j < planes; j++, t += planeWords32)
                        for (int w = 0; w < cw; w++) Unsafe.Add(ref to, t + w) = 0;
            }
        }
    }

    /// <summary>
    /// Copies n words, 8 at a time where 256-bit vectors run (a 3×3 window of 128 channels is 3 runs of 12 words): a
    /// word-by-word copy took about as long as a fifth of the layer's popcounts. A last partial vector is copied as the
    /// vector ending at n, overlapping words already copied, so nothing outside the n words is read or written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy(ref uint to, ref uint from, int n)
    {
        int w = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            for (; w + 8 <= n; w += 8) Vector256.LoadUnsafe(ref from, (nuint)w).StoreUnsafe(ref to, (nuint)w);
            if (w < n) Vector256.LoadUnsafe(ref from, (nuint)(n - 8)).StoreUnsafe(ref to, (nuint)(n - 8));
            return;
        }
        for (; w < n; w++) Unsafe.Add(ref to, w) = Unsafe.Add(ref from, w);
    }
}

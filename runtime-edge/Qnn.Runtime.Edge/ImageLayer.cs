using System;
using Qnn.Format;

namespace Qnn.Runtime.Edge
{
    /// <summary>
    /// The first layer, which reads the image (SPEC 1.4 with unsigned input), from the pixel bytes rather than from
    /// bit-planes. With x = p &gt;&gt; (8 − n) a pixel's value, X = Σ x over the window and S_i = Σ x over the window's
    /// pixels whose weight bit i is 1, the accumulator Σ x · (2q − (2^m − 1)) is 2 · Σ_i S_i &lt;&lt; i − (2^m − 1) · X:
    /// one add per lit pixel and weight bit; dark pixels and padding add nothing and are skipped. This is the cheapest
    /// form on an IL interpreter (nanoCLR), where the n bit-planes cost n popcounts per word of every window.
    /// <list type="bullet">
    /// <item>A layer with one window (a Dense layer) gathers its lit pixels once per image (<see cref="Gather"/>),
    /// then each filter adds them up (<see cref="LitAccumulator"/>).</item>
    /// <item>A convolution reads each window's pixels from the image (<see cref="WindowAccumulator"/>).</item>
    /// </list>
    /// </summary>
    public static class ImageLayer
    {
        /// <summary>Lit entries are (weight word offset &lt;&lt; 13) | (bit &lt;&lt; 8) | value: the offset must fit 18 bits.</summary>
        private const int MaxGatherPlaneWords = 1 << 18;

        /// <summary>Whether <paramref name="l"/> (the first layer, odd-level weights) gathers its lit pixels once per image.</summary>
        public static bool GathersOnce(LayerSpec l)
        {
            if (l.WeightCode != WeightCode.Odd) return false;   // log weights: WindowAccumulatorLog reads the bytes itself
            if (l.ConvOutH != 1 || l.ConvOutW != 1) return false;
            int planeWords = FormatMath.Mul(FormatMath.Mul(l.KernelH, l.KernelW), l.InChannelWords);
            return planeWords >= 0 && planeWords < MaxGatherPlaneWords;
        }

        /// <summary>Ints of the lit-pixel list of the first layer: KH · KW · C when it gathers once, else 0.</summary>
        public static int LitCapacity(LayerSpec l)
        {
            return GathersOnce(l) ? FormatMath.Mul(FormatMath.Mul(l.KernelH, l.KernelW), l.InC) : 0;
        }

        /// <summary>
        /// The lit pixels of the layer's one window, in order, as (weight word offset within a plane &lt;&lt; 13) |
        /// (bit &lt;&lt; 8) | value into <paramref name="lit"/>; returns their count and their sum of values in
        /// <paramref name="sum"/>.
        /// </summary>
        public static int Gather(LayerSpec l, LayerGeometry g, byte[] image, int shift, int[] lit, out int sum)
        {
            int count = 0, x = 0;
            int c = l.InC, cw = g.InChannelWords;
            int rowByte = g.ImageWindowStart;
            int rowWords = 0;
            for (int ky = 0; ky < l.KernelH; ky++)
            {
                int iy = ky - l.PadTop;
                if (iy >= 0 && iy < l.InH)
                {
                    int pixelByte = rowByte;
                    int tapWords = rowWords;
                    for (int kx = 0; kx < l.KernelW; kx++)
                    {
                        int ix = kx - l.PadLeft;
                        if (ix >= 0 && ix < l.InW)
                        {
                            int at = pixelByte, end = pixelByte + c;
                            int word = tapWords << 13, bit = 0;
                            for (; at < end; at++)
                            {
                                int v = image[at] >> shift;
                                if (v != 0)
                                {
                                    x += v;
                                    lit[count++] = word | bit | v;
                                }
                                bit += 1 << 8;
                                if (bit == 32 << 8) { bit = 0; word += 1 << 13; }
                            }
                        }
                        pixelByte += c;
                        tapWords += cw;
                    }
                }
                rowByte += g.ImageRowBytes;
                rowWords += g.WeightRowWords;
            }
            sum = x;
            return count;
        }

        /// <summary>One filter's accumulator over the gathered lit pixels (weights of plane i at wBase + i · planeWords).</summary>
        public static int LitAccumulator(int[] lit, int count, int sum, uint[] weights, int wBase, int planeWords, int m)
        {
            int b = 0;
            int plane = wBase;
            int pairs = count - 1;
            for (int i = 0; i < m; i++)
            {
                int s = 0;
                int t = 0;
                // The shift count of a uint is taken mod 32: (e >> 8) selects the bit, (e >> 13) the word.
                for (; t < pairs; t += 2)
                {
                    int e = lit[t];
                    if (((weights[plane + (e >> 13)] >> (e >> 8)) & 1u) != 0) s += e & 255;
                    e = lit[t + 1];
                    if (((weights[plane + (e >> 13)] >> (e >> 8)) & 1u) != 0) s += e & 255;
                }
                if (t < count)
                {
                    int e = lit[t];
                    if (((weights[plane + (e >> 13)] >> (e >> 8)) & 1u) != 0) s += e & 255;
                }
                b += s << i;
                plane += planeWords;
            }
            return (b << 1) - (sum << m) + sum;
        }

        /// <summary>
        /// One filter's accumulator over one window read from the image: <paramref name="windowByte"/> is the byte of
        /// the window's top-left position (padding included), (<paramref name="iy0"/>, <paramref name="ix0"/>) its pixel.
        /// </summary>
        public static int WindowAccumulator(LayerSpec l, LayerGeometry g, byte[] image, int shift, int windowByte, int iy0, int ix0, uint[] weights, int wBase)
        {
            int kh = l.KernelH, kw = l.KernelW, c = l.InC, m = l.WeightBits, cw = g.InChannelWords;
            int planeWords = g.WeightPlaneWords, rowBytes = g.ImageRowBytes, rowWords = g.WeightRowWords;
            int ky0 = iy0 < 0 ? -iy0 : 0, ky1 = l.InH - iy0;
            if (ky1 > kh) ky1 = kh;
            int kx0 = ix0 < 0 ? -ix0 : 0, kx1 = l.InW - ix0;
            if (kx1 > kw) kx1 = kw;
            if (ky0 >= ky1 || kx0 >= kx1) return 0;
            int rowByte = windowByte, rowWeights = wBase;
            if (ky0 != 0)
            {
                rowByte += FormatMath.Mul(ky0, rowBytes);
                rowWeights += FormatMath.Mul(ky0, rowWords);
            }
            if (kx0 != 0)
            {
                rowByte += FormatMath.Mul(kx0, c);
                rowWeights += FormatMath.Mul(kx0, cw);
            }
            int x = 0, b = 0;
            int taps = kx1 - kx0;
            for (int ky = ky0; ky < ky1; ky++)
            {
                if (c == 1)
                {
                    // One channel: a tap is one byte and one weight word (bit 0) per plane.
                    int wAt = rowWeights;
                    int end = rowByte + taps;
                    for (int at = rowByte; at < end; at++, wAt++)
                    {
                        int v = image[at] >> shift;
                        if (v == 0) continue;
                        x += v;
                        if (m == 1)
                        {
                            if ((weights[wAt] & 1u) != 0) b += v;
                        }
                        else
                        {
                            int p = wAt;
                            for (int i = 0; i < m; i++, p += planeWords)
                                if ((weights[p] & 1u) != 0) b += v << i;
                        }
                    }
                }
                else
                {
                    int at = rowByte, tap = rowWeights;
                    for (int kx = 0; kx < taps; kx++, tap += cw)
                    {
                        int word = tap, bit = 0;
                        int end = at + c;
                        for (; at < end; at++)
                        {
                            int v = image[at] >> shift;
                            if (v != 0)
                            {
                                x += v;
                                int p = word;
                                for (int i = 0; i < m; i++, p += planeWords)
                                    if (((weights[p] >> bit) & 1u) != 0) b += v << i;
                            }
                            if (++bit == 32) { bit = 0; word++; }
                        }
                    }
                }
                rowByte += rowBytes;
                rowWeights += rowWords;
            }
            return (b << 1) - (x << m) + x;
        }
            /// <summary>
        /// One filter's accumulator over one window read from the image, log weights (SPEC 1.3, 1.4 with unsigned
        /// input): Σ over the lit pixels inside the input of ±(x &lt;&lt; e), the sign from weight plane 0 (1 = +) and
        /// e from planes 1 … m − 1. Padding and dark pixels add nothing.
        /// </summary>
        public static int WindowAccumulatorLog(LayerSpec l, LayerGeometry g, byte[] image, int shift, int windowByte, int iy0, int ix0, uint[] weights, int wBase)
        {
            int kh = l.KernelH, kw = l.KernelW, c = l.InC, m = l.WeightBits, cw = g.InChannelWords;
            int planeWords = g.WeightPlaneWords, rowBytes = g.ImageRowBytes, rowWords = g.WeightRowWords;
            int acc = 0;
            int rowByte = windowByte, rowWeights = wBase;
            for (int ky = 0; ky < kh; ky++)
            {
                int iy = iy0 + ky;
                if (iy >= 0 && iy < l.InH)
                {
                    int at = rowByte, tap = rowWeights;
                    for (int kx = 0; kx < kw; kx++)
                    {
                        int ix = ix0 + kx;
                        if (ix >= 0 && ix < l.InW)
                        {
                            int word = tap, bit = 0;
                            for (int ch = 0; ch < c; ch++)
                            {
                                int v = image[at + ch] >> shift;
                                if (v != 0)
                                {
                                    int e = 0, p = word + planeWords;
                                    for (int i = 1; i < m; i++, p += planeWords)
                                        if (((weights[p] >> bit) & 1u) != 0) e |= 1 << (i - 1);
                                    if (((weights[word] >> bit) & 1u) != 0) acc += v << e;
                                    else acc -= v << e;
                                }
                                if (++bit == 32) { bit = 0; word++; }
                            }
                        }
                        at += c;
                        tap += cw;
                    }
                }
                rowByte += rowBytes;
                rowWeights += rowWords;
            }
            return acc;
        }
    }
}

using System;

namespace Qnn.Runtime.Edge
{
    /// <summary>
    /// Population counts with shifts, ands and adds only (the SWAR reduction of Hacker's Delight 5-1, without its final
    /// multiply by 0x01010101), so that the no-multiplication IL test holds and a microcontroller without a popcount
    /// instruction runs them in single-cycle operations. <see cref="Xor"/> and <see cref="Words"/> are written for an
    /// IL interpreter (nanoCLR executes one IL instruction at a time): each word is reduced only to byte counts, which
    /// are summed across up to 31 words (8 · 31 = 248 fits a byte) before one final reduction, four words per loop turn.
    /// </summary>
    public static class Popcount
    {
        /// <summary>Words whose byte counts can be summed without a byte overflowing: 31 · 8 = 248 &lt; 256.</summary>
        private const int ByteLaneWords = 31;

        public static int Count(uint x)
        {
            x = x - ((x >> 1) & 0x55555555u);
            x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
            x = (x + (x >> 4)) & 0x0F0F0F0Fu;
            x = x + (x >> 8);
            x = x + (x >> 16);
            return (int)(x & 0x3Fu);
        }

        /// <summary>Σ popcount(a[aAt + t] XOR w[wAt + t]) for 0 ≤ t &lt; <paramref name="words"/>.</summary>
        public static int Xor(uint[] a, int aAt, uint[] w, int wAt, int words)
        {
            int total = 0;
            int d = wAt - aAt;
            while (words > 0)
            {
                int chunk = words < ByteLaneWords ? words : ByteLaneWords;
                words -= chunk;
                int end = aAt + chunk;
                int end4 = end - 3;
                uint bytes = 0;
                uint x;
                for (; aAt < end4; aAt += 4)
                {
                    x = a[aAt] ^ w[aAt + d];
                    x -= (x >> 1) & 0x55555555u;
                    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
                    bytes += (x + (x >> 4)) & 0x0F0F0F0Fu;
                    x = a[aAt + 1] ^ w[aAt + d + 1];
                    x -= (x >> 1) & 0x55555555u;
                    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
                    bytes += (x + (x >> 4)) & 0x0F0F0F0Fu;
                    x = a[aAt + 2] ^ w[aAt + d + 2];
                    x -= (x >> 1) & 0x55555555u;
                    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
                    bytes += (x + (x >> 4)) & 0x0F0F0F0Fu;
                    x = a[aAt + 3] ^ w[aAt + d + 3];
                    x -= (x >> 1) & 0x55555555u;
                    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
                    bytes += (x + (x >> 4)) & 0x0F0F0F0Fu;
                }
                for (; aAt < end; aAt++)
                {
                    x = a[aAt] ^ w[aAt + d];
                    x -= (x >> 1) & 0x55555555u;
                    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
                    bytes += (x + (x >> 4)) & 0x0F0F0F0Fu;
                }
                bytes = (bytes & 0x00FF00FFu) + ((bytes >> 8) & 0x00FF00FFu);
                total += (int)((bytes & 0xFFFFu) + (bytes >> 16));
            }
            return total;
        }

        /// <summary>
        /// Σ popcount(a XOR w) over <paramref name="rows"/> rows of <paramref name="rowWords"/> words: the rows of
        /// <paramref name="a"/> lie <paramref name="aRowStep"/> words apart, those of <paramref name="w"/> follow each
        /// other (a convolution window inside the input against one weight plane).
        /// </summary>
        public static int XorRows(uint[] a, int aAt, int aRowStep, uint[] w, int wAt, int rows, int rowWords)
        {
            int total = 0;
            if (rowWords > ByteLaneWords)
            {
                for (int r = 0; r < rows; r++, aAt += aRowStep, wAt += rowWords) total += Xor(a, aAt, w, wAt, rowWords);
                return total;
            }
            uint bytes = 0;
            int pending = 0;
            for (int r = 0; r < rows; r++)
            {
                if (pending + rowWords > ByteLaneWords)
                {
                    bytes = (bytes & 0x00FF00FFu) + ((bytes >> 8) & 0x00FF00FFu);
                    total += (int)((bytes & 0xFFFFu) + (bytes >> 16));
                    bytes = 0;
                    pending = 0;
                }
                int d = wAt - aAt;
                int end = aAt + rowWords;
                for (int p = aAt; p < end; p++)
                {
                    uint x = a[p] ^ w[p + d];
                    x -= (x >> 1) & 0x55555555u;
                    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
                    bytes += (x + (x >> 4)) & 0x0F0F0F0Fu;
                }
                pending += rowWords;
                aAt += aRowStep;
                wAt += rowWords;
            }
            bytes = (bytes & 0x00FF00FFu) + ((bytes >> 8) & 0x00FF00FFu);
            return total + (int)((bytes & 0xFFFFu) + (bytes >> 16));
        }

        /// <summary>Σ popcount(w[at + t]) for 0 ≤ t &lt; <paramref name="words"/> (the XOR with an all-zero padding pixel).</summary>
        public static int Words(uint[] w, int at, int words)
        {
            int total = 0;
            while (words > 0)
            {
                int chunk = words < ByteLaneWords ? words : ByteLaneWords;
                words -= chunk;
                int end = at + chunk;
                uint bytes = 0;
                for (; at < end; at++)
                {
                    uint x = w[at];
                    x -= (x >> 1) & 0x55555555u;
                    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
                    bytes += (x + (x >> 4)) & 0x0F0F0F0Fu;
                }
                bytes = (bytes & 0x00FF00FFu) + ((bytes >> 8) & 0x00FF00FFu);
                total += (int)((bytes & 0xFFFFu) + (bytes >> 16));
            }
            return total;
        }
    }
}

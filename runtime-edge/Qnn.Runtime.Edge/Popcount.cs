using System;

namespace Qnn.Runtime.Edge
{
    /// <summary>
    /// Population count of a 32-bit word with shifts, ands and adds only (the SWAR reduction of Hacker's Delight
    /// 5-1, without its final multiply by 0x01010101): microcontrollers without a popcount instruction run it in
    /// about a dozen single-cycle operations, and the no-multiplication IL test holds.
    /// </summary>
    public static class Popcount
    {
        public static int Count(uint x)
        {
            x = x - ((x >> 1) & 0x55555555u);
            x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
            x = (x + (x >> 4)) & 0x0F0F0F0Fu;
            x = x + (x >> 8);
            x = x + (x >> 16);
            return (int)(x & 0x3Fu);
        }
    }
}

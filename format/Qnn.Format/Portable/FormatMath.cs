using System;

namespace Qnn.Format
{
    /// <summary>
    /// Multiplication and division of small non-negative sizes by shifts and adds, so that code shared with the
    /// bitwise-only edge runtime contains no multiply or divide instruction (the IL test checks it).
    /// Both return -1 (never a wrapped value) when the result would not fit in 31 bits.
    /// </summary>
    public static class FormatMath
    {
        /// <summary>a · b for 0 ≤ a, b; -1 on overflow or negative input.</summary>
        public static int Mul(int a, int b)
        {
            if (a < 0 || b < 0) return -1;
            long result = 0;
            long addend = a;
            int rest = b;
            while (rest != 0)
            {
                if ((rest & 1) != 0)
                {
                    result += addend;
                    if (result > int.MaxValue) return -1;
                }
                rest >>= 1;
                if (rest != 0)
                {
                    addend <<= 1;
                    if (addend > int.MaxValue) return -1;
                }
            }
            return (int)result;
        }

        /// <summary>floor(a / b) for a ≥ 0 and b ≥ 1 by shift-and-subtract; floor for negative a too.</summary>
        public static int Div(int a, int b)
        {
            if (b <= 0) return -1;
            if (a < 0) return -1 - Div(-1 - a, b);
            int quotient = 0;
            for (int shift = 30; shift >= 0; shift--)
            {
                long d = (long)b << shift;
                if (d <= a)
                {
                    a -= (int)d;
                    quotient |= 1 << shift;
                }
            }
            return quotient;
        }

        /// <summary>a · b for 0 ≤ a, b &lt; 2^31 as a long (exact: the product is below 2^62), by shifts and adds.</summary>
        public static long Mul64(int a, int b)
        {
            if (a < 0 || b < 0) return -1;
            long result = 0;
            long addend = a;
            for (int rest = b; rest != 0; rest >>= 1)
            {
                if ((rest & 1) != 0) result += addend;
                addend <<= 1;
            }
            return result;
        }
    }
}

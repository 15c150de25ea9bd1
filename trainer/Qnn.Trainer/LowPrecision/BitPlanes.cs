namespace Qnn.Trainer.LowPrecision;

/// <summary>
/// A matrix of odd levels v ∈ {−L, …, −1, +1, …, L} (L = 2^b − 1: binary weights and activations, k-bit
/// gradients, the 8-bit input) split into b ±1 bit-planes packed 64 to a word along the reduction dimension:
/// v = Σ_j 2^j · (2·bit_j(q) − 1) with q = (v + L) / 2. A dot product of two such rows is then a sum over plane
/// pairs of 2^(i+j) · (K − 2·popcount(a_i XOR b_j)) (<see cref="BitwiseGemm"/>). Layout: [row][plane][word];
/// bits past K are 0 in every row, so they always agree and count as nothing once K is used.
/// </summary>
public sealed class BitPlanes
{
    public BitPlanes(int rows, int k, int planes)
    {
        if (planes is < 1 or > 16) throw new ArgumentOutOfRangeException(nameof(planes), "1 to 16 bit-planes");
        Rows = rows;
        K = k;
        Planes = planes;
        Words = (k + 63) >> 6;
        Bits = new ulong[(long)rows * planes * Words];
    }

    public int Rows { get; }
    /// <summary>Length of the reduction dimension.</summary>
    public int K { get; }
    public int Planes { get; }
    public int Words { get; }
    public ulong[] Bits { get; }

    /// <summary>The largest level, L = 2^planes − 1.</summary>
    public int Max => (1 << Planes) - 1;

    /// <summary>
    /// Packs <see cref="Rows"/> × <see cref="K"/> levels: element (r, p) is source[r·K + p], or source[p·Rows + r] when
    /// <paramref name="transposed"/> (the source is then K × Rows, as the batch-major activations are for a weight
    /// gradient). Throws on a value that is not an odd level of this many planes.
    /// </summary>
    public void Pack(float[] source, bool transposed)
    {
        int words = Words, planes = Planes, max = Max, k = K, rows = Rows;
        Array.Clear(Bits);
        float bad = 0f;
        bool invalid = false;
        Parallel.For(0, (rows + 15) / 16, block =>
        {
            int r1 = Math.Min(rows, block * 16 + 16);
            for (int r = block * 16; r < r1; r++)
            {
                long o = (long)r * planes * words;
                for (int p = 0; p < k; p++)
                {
                    float v = transposed ? source[(long)p * rows + r] : source[(long)r * k + p];
                    int twice = (int)v + max;                      // 2q
                    if (twice != v + max || (twice & 1) != 0 || (uint)twice > 2u * (uint)max)
                    {
                        bad = v;
                        invalid = true;
                        return;
                    }
                    uint q = (uint)twice >> 1;
                    ulong bit = 1UL << (p & 63);
                    int w = p >> 6;
                    for (int j = 0; j < planes; j++)
                        if ((q >> j & 1) != 0) Bits[o + j * words + w] |= bit;
                }
            }
        });
        if (invalid) throw new ArgumentException($"{bad} is not an odd level of {planes} bit(s)");
    }
}

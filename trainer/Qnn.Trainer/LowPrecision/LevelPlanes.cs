namespace Qnn.Trainer.LowPrecision;

/// <summary>
/// A matrix of odd levels v ∈ {−L, …, −1, +1, …, L} (L = 2^b − 1: binary weights and activations, k-bit
/// gradients, the 8-bit input) split into b ±1 bit-planes packed 64 to a word along the reduction dimension:
/// v = Σ_j 2^j · (2·bit_j(q) − 1) with q = (v + L) / 2. A dot product of two such rows is then a sum over plane
/// pairs of 2^(i+j) · (K − 2·popcount(a_i XOR b_j)) (<see cref="BitwiseGemm"/>). Layout: [row][plane][word];
/// bits past K are 0 in every row, so they always agree and count as nothing once K is used.
/// </summary>
public sealed class LevelPlanes
{
    public LevelPlanes(int rows, int k, int planes)
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
    /// gradient), both read from <paramref name="offset"/> on. Throws on a value that is not an odd level of this many planes.
    /// </summary>
    public void Pack(float[] source, bool transposed, int offset = 0)
    {
        int bad = 0;
        float badValue = 0f;
        if (transposed) PackTransposed(source, offset, ref bad, ref badValue);
        else PackRows(source, offset, ref bad, ref badValue);
        if (bad != 0) throw new ArgumentException($"{badValue} is not an odd level of {Planes} bit(s)");
    }

    /// <summary>q = (v + L) / 2, or −1 when v is not an odd level in [−L, L].</summary>
    private static int Index(float v, int max)
    {
        int twice = (int)v + max;
        return twice == v + max && (twice & 1) == 0 && (uint)twice <= 2u * (uint)max ? twice >> 1 : -1;
    }

    /// <summary>Row by row: 64 levels make one word per plane, accumulated in registers.</summary>
    private void PackRows(float[] source, int offset, ref int bad, ref float badValue)
    {
        int words = Words, planes = Planes, max = Max, k = K;
        ulong[] bits = Bits;
        int flag = 0;
        float value = 0f;
        Parallel.For(0, Rows, () => 0, (r, _, failed) =>
        {
            Span<ulong> acc = stackalloc ulong[16];
            long o = (long)r * planes * words, s = (long)r * k + offset;
            for (int w = 0; w < words; w++)
            {
                acc[..planes].Clear();
                int p0 = w << 6, p1 = Math.Min(k, p0 + 64);
                for (int p = p0; p < p1; p++)
                {
                    int q = Index(source[s + p], max);
                    if (q < 0)
                    {
                        value = source[s + p];
                        failed = 1;
                        q = 0;
                    }
                    ulong bit = 1UL << (p - p0);
                    for (int j = 0; j < planes; j++) acc[j] |= (ulong)(-(long)((q >> j) & 1)) & bit;
                }
                for (int j = 0; j < planes; j++) bits[o + (long)j * words + w] = acc[j];
            }
            return failed;
        }, failed => { if (failed != 0) Interlocked.Exchange(ref flag, 1); });
        bad = flag;
        badValue = value;
    }

    /// <summary>
    /// Blocks of 64 rows: for each position p of the reduction (a contiguous run of the source), bit p of each
    /// of the block's rows, so the source is read in order.
    /// </summary>
    private void PackTransposed(float[] source, int offset, ref int bad, ref float badValue)
    {
        int words = Words, planes = Planes, max = Max, k = K, rows = Rows;
        ulong[] bits = Bits;
        Array.Clear(bits);
        int flag = 0;
        float value = 0f;
        Parallel.For(0, (rows + 63) / 64, () => 0, (block, _, failed) =>
        {
            int r0 = block * 64, r1 = Math.Min(rows, r0 + 64);
            for (int p = 0; p < k; p++)
            {
                long s = (long)p * rows + offset;
                ulong bit = 1UL << (p & 63);
                int w = p >> 6;
                for (int r = r0; r < r1; r++)
                {
                    int q = Index(source[s + r], max);
                    if (q < 0)
                    {
                        value = source[s + r];
                        failed = 1;
                        continue;
                    }
                    long o = (long)r * planes * words + w;
                    for (int j = 0; j < planes; j++, o += words)
                        if (((q >> j) & 1) != 0) bits[o] |= bit;
                }
            }
            return failed;
        }, failed => { if (failed != 0) Interlocked.Exchange(ref flag, 1); });
        bad = flag;
        badValue = value;
    }
}

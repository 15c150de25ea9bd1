using System.Numerics;
using System.Runtime.Intrinsics;

namespace Qnn.Trainer.Backends;

/// <summary>
/// C = A · Bᵀ for matrices of ±1 (the hidden binary dense forward of the paper): both are packed to bits
/// (1 = +1, as format/SPEC.md 1.1) and each dot product is k − 2 · popcount(a XOR b), exact and bit-reproducible
/// (the float GEMM gives the same integers: they stay below 2^24). Rows are packed 64 columns at a time from
/// vector comparisons, and the product runs on 4 × 4 tiles of rows, so each loaded word feeds four popcounts.
/// </summary>
public static class SignGemm
{
    private const int Tile = 4;

    /// <summary>A[m×k] · B[n×k]ᵀ → C[m×n]; A and B must hold only ±1 (a value ≥ 0 counts as +1).</summary>
    public static void Multiply(float[] a, float[] b, float[] c, int m, int n, int k)
    {
        int words = (k + 63) >> 6;
        var pa = new ulong[(long)m * words];
        var pb = new ulong[(long)n * words];
        Pack(a, m, k, words, pa);
        Pack(b, n, k, words, pb);
        int tilesM = (m + Tile - 1) / Tile, tilesN = (n + Tile - 1) / Tile;
        Parallel.For(0, tilesM, ti =>
        {
            Span<int> diff = stackalloc int[Tile * Tile];
            int i0 = ti * Tile, rows = Math.Min(Tile, m - i0);
            for (int tj = 0; tj < tilesN; tj++)
            {
                int j0 = tj * Tile, cols = Math.Min(Tile, n - j0);
                if (rows == Tile && cols == Tile) Disagreements4x4(pa, i0, pb, j0, words, diff);
                else
                    for (int r = 0; r < rows; r++)
                        for (int q = 0; q < cols; q++)
                            diff[r * Tile + q] = Disagreements(pa.AsSpan((i0 + r) * words, words), pb.AsSpan((j0 + q) * words, words));
                for (int r = 0; r < rows; r++)
                    for (int q = 0; q < cols; q++)
                        c[(long)(i0 + r) * n + j0 + q] = k - 2 * diff[r * Tile + q];
            }
        });
    }

    private static int Disagreements(ReadOnlySpan<ulong> x, ReadOnlySpan<ulong> y)
    {
        int d = 0;
        for (int w = 0; w < x.Length; w++) d += BitOperations.PopCount(x[w] ^ y[w]);
        return d;
    }

    /// <summary>The 16 disagreement counts of rows i0 … i0+3 of A against rows j0 … j0+3 of B.</summary>
    private static void Disagreements4x4(ulong[] pa, int i0, ulong[] pb, int j0, int words, Span<int> diff)
    {
        int d00 = 0, d01 = 0, d02 = 0, d03 = 0, d10 = 0, d11 = 0, d12 = 0, d13 = 0,
            d20 = 0, d21 = 0, d22 = 0, d23 = 0, d30 = 0, d31 = 0, d32 = 0, d33 = 0;
        var a0 = pa.AsSpan(i0 * words, words); var a1 = pa.AsSpan((i0 + 1) * words, words);
        var a2 = pa.AsSpan((i0 + 2) * words, words); var a3 = pa.AsSpan((i0 + 3) * words, words);
        var b0 = pb.AsSpan(j0 * words, words); var b1 = pb.AsSpan((j0 + 1) * words, words);
        var b2 = pb.AsSpan((j0 + 2) * words, words); var b3 = pb.AsSpan((j0 + 3) * words, words);
        for (int w = 0; w < words; w++)
        {
            ulong x0 = a0[w], x1 = a1[w], x2 = a2[w], x3 = a3[w], y0 = b0[w], y1 = b1[w], y2 = b2[w], y3 = b3[w];
            d00 += BitOperations.PopCount(x0 ^ y0); d01 += BitOperations.PopCount(x0 ^ y1);
            d02 += BitOperations.PopCount(x0 ^ y2); d03 += BitOperations.PopCount(x0 ^ y3);
            d10 += BitOperations.PopCount(x1 ^ y0); d11 += BitOperations.PopCount(x1 ^ y1);
            d12 += BitOperations.PopCount(x1 ^ y2); d13 += BitOperations.PopCount(x1 ^ y3);
            d20 += BitOperations.PopCount(x2 ^ y0); d21 += BitOperations.PopCount(x2 ^ y1);
            d22 += BitOperations.PopCount(x2 ^ y2); d23 += BitOperations.PopCount(x2 ^ y3);
            d30 += BitOperations.PopCount(x3 ^ y0); d31 += BitOperations.PopCount(x3 ^ y1);
            d32 += BitOperations.PopCount(x3 ^ y2); d33 += BitOperations.PopCount(x3 ^ y3);
        }
        diff[0] = d00; diff[1] = d01; diff[2] = d02; diff[3] = d03;
        diff[4] = d10; diff[5] = d11; diff[6] = d12; diff[7] = d13;
        diff[8] = d20; diff[9] = d21; diff[10] = d22; diff[11] = d23;
        diff[12] = d30; diff[13] = d31; diff[14] = d32; diff[15] = d33;
    }

    /// <summary>
    /// Packs each row's signs into 64-bit words (bit c of a word: column c ≥ 0, NaN counting as −1 as in the
    /// scalar x ≥ 0); bits past k are 0 in both operands and so agree. Whole words come from eight 8-lane
    /// comparisons (Vector256: AVX, or two AdvSimd halves), the row's tail from the scalar rule.
    /// </summary>
    public static void Pack(float[] x, int rows, int k, int words, ulong[] dst)
    {
        Parallel.For(0, rows, r =>
        {
            long s = (long)r * k;
            int w = 0;
            for (; (w + 1) << 6 <= k; w++)
            {
                var src = x.AsSpan((int)(s + (w << 6)), 64);
                ulong bits = 0;
                for (int q = 0; q < 8; q++)
                {
                    var v = Vector256.Create(src.Slice(q << 3, 8));
                    bits |= (ulong)Vector256.GreaterThanOrEqual(v, Vector256<float>.Zero).ExtractMostSignificantBits() << (q << 3);
                }
                dst[(long)r * words + w] = bits;
            }
            for (; w < words; w++)
            {
                ulong bits = 0;
                int c0 = w << 6, c1 = Math.Min(k, c0 + 64);
                for (int col = c0; col < c1; col++)
                    if (x[s + col] >= 0f) bits |= 1UL << (col - c0);
                dst[(long)r * words + w] = bits;
            }
        });
    }
}

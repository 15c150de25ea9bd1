using System.Numerics;

namespace Qnn.Trainer.Backends;

/// <summary>
/// C = A · Bᵀ for matrices of ±1 (the hidden binary dense forward of the paper): both are packed to bits
/// (1 = +1, as format/SPEC.md 1.1) and each dot product is k − 2 · popcount(a XOR b), exact and bit-reproducible.
/// </summary>
public static class XnorGemm
{
    /// <summary>A[m×k] · B[n×k]ᵀ → C[m×n]; A and B must hold only ±1 (a value ≥ 0 counts as +1).</summary>
    public static void Multiply(float[] a, float[] b, float[] c, int m, int n, int k)
    {
        int words = (k + 63) >> 6;
        var pa = new ulong[(long)m * words];
        var pb = new ulong[(long)n * words];
        Pack(a, m, k, words, pa);
        Pack(b, n, k, words, pb);
        int blocks = (m + 7) / 8;
        Parallel.For(0, blocks, blk =>
        {
            int i1 = Math.Min(m, blk * 8 + 8);
            for (int i = blk * 8; i < i1; i++)
            {
                var rowA = pa.AsSpan(i * words, words);
                for (int j = 0; j < n; j++)
                {
                    var rowB = pb.AsSpan(j * words, words);
                    int diff = 0;
                    for (int w = 0; w < words; w++) diff += BitOperations.PopCount(rowA[w] ^ rowB[w]);
                    c[(long)i * n + j] = k - 2 * diff;
                }
            }
        });
    }

    /// <summary>Packs each row's signs into 64-bit words; bits past k are 0 in both operands and so agree.</summary>
    public static void Pack(float[] x, int rows, int k, int words, ulong[] dst)
    {
        Parallel.For(0, rows, r =>
        {
            long s = (long)r * k;
            for (int w = 0; w < words; w++)
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
